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
pub mod resume;
pub mod runner;
pub mod schedule;
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

/// Runs `aimarket sweep`: validates the sweep file (nothing runs if it is bad), executes or
/// resumes it, and maps the ending to an exit code: 0 when every run is ok, 1 when some runs
/// failed (all others finished), 130 when interrupted.
///
/// This is the command glue, the only place under `sweep` that knows about the command line:
/// it imports `cli` locally so that it can move to the commands as one piece.
pub fn execute(args: &crate::cli::SweepArgs) -> Result<(), crate::cli::Failure> {
    use crate::cli::{Failure, interrupt_flag, show_progress};

    /// The exit code of a failed sweep session: 2 when the request is refused before anything
    /// in the output directory changed (bad `--threads`, a directory holding another sweep or
    /// one that cannot be resumed), 1 when reading or writing the directory failed.
    fn failure(e: SweepError) -> Failure {
        match e {
            SweepError::Threads(_)
            | SweepError::Occupied { .. }
            | SweepError::Foreign { .. }
            | SweepError::CorruptState { .. }
            | SweepError::Mismatch { .. } => Failure::input(e),
            SweepError::Io { .. }
            | SweepError::Encode { .. }
            | SweepError::ForeignTable { .. }
            | SweepError::CorruptJournal { .. }
            | SweepError::MisplacedJournal { .. }
            | SweepError::JournalGone { .. }
            | SweepError::Point(_) => Failure::run(e),
        }
    }

    let plan = spec::load(&args.sweep).map_err(Failure::input)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.sweep));
    let opts = runner::Options {
        out: out.clone(),
        threads: args.threads,
        resume: args.resume,
        trajectories: args.trajectories,
        progress: show_progress(args.quiet),
        quiet_notes: args.quiet,
    };
    if args.threads == Some(0) {
        return Err(Failure::input("--threads must be at least 1, got 0"));
    }
    if !args.quiet {
        eprintln!(
            "sweep {}: {} points × {} replicates = {} runs ({} design){} → {}",
            args.sweep.display(),
            plan.points.len(),
            plan.replicates,
            plan.runs(),
            plan.design.name(),
            if args.resume { ", resuming" } else { "" },
            out.display()
        );
    }
    let stop = interrupt_flag();
    let ending = runner::execute(&plan, &opts, &stop).map_err(failure)?;
    match ending {
        runner::Ending::Complete {
            runs,
            failed,
            ran_now,
            wall_seconds,
        } => {
            if !args.quiet {
                let rate = if wall_seconds > 0.0 {
                    ran_now as f64 / wall_seconds
                } else {
                    0.0
                };
                eprintln!(
                    "ran {ran_now} of {runs} runs in {wall_seconds:.2} s ({rate:.1} runs/s); {} ok, {failed} failed; wrote {}",
                    runs - failed,
                    out.display()
                );
            }
            if failed > 0 {
                return Err(Failure::run(format!(
                    "{failed} of {runs} runs failed (status `failed` in {}, with the message); the other runs finished",
                    out.join("runs.csv").display()
                )));
            }
            Ok(())
        }
        runner::Ending::Interrupted { done, runs } => Err(Failure {
            message: format!(
                "interrupted: {done} of {runs} runs done; resume with: aimarket sweep {} --out {} --resume{}",
                args.sweep.display(),
                out.display(),
                if args.trajectories { " --trajectories" } else { "" }
            ),
            code: 130,
        }),
    }
}
