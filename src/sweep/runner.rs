//! Executing a sweep: one session from an output directory's last consistent state to either a
//! complete sweep or an interruption that `--resume` can continue.
//!
//! This module only orchestrates: `resume` checks the directory and repairs its tables,
//! `schedule` runs the pending runs in parallel and commits them in order (through `journal`
//! and `tables`), and `manifest` is written last, when every run is committed. The invariants
//! that make a killed sweep resumable are stated in `schedule` (the commit order) and `resume`
//! (what that order guarantees on disk).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::error::SweepError;
use super::journal::JOURNAL_DIR;
use super::manifest::{MANIFEST_FILE, Manifest, Session};
use super::resume::{self, Recovery};
use super::schedule::{self, Committer, Progress, Work};
use super::spec::Plan;
use crate::output::atomic::write_atomic;

/// How to execute a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output directory.
    pub out: PathBuf,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Continue a sweep already in `out`.
    pub resume: bool,
    /// Write trajectories.csv.
    pub trajectories: bool,
    /// Draw a progress bar.
    pub progress: bool,
    /// Do not print notes (e.g. `--resume` with nothing to resume).
    pub quiet_notes: bool,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// Every run is done and the manifest is written.
    Complete {
        /// Runs in the sweep (in the shard, when sharded).
        runs: u64,
        /// Runs that failed (all sessions).
        failed: u64,
        /// Runs executed in this session (the rest were already done).
        ran_now: u64,
        /// Wall time of this session, seconds.
        wall_seconds: f64,
    },
    /// Stopped by the interrupt flag; results so far are kept for `--resume`.
    Interrupted {
        /// Runs whose results are saved (committed or journaled).
        done: u64,
        /// Runs in the sweep (in the shard, when sharded).
        runs: u64,
    },
}

/// Executes (or resumes) a sweep into `opts.out`. `stop` is the interrupt flag.
pub fn execute(plan: &Plan, opts: &Options, stop: &AtomicBool) -> Result<Ending, SweepError> {
    let started = Instant::now();
    // Held until the session ends: no other process writes into `out` meanwhile.
    let _lock = crate::output::lock::lock_dir(&opts.out).map_err(SweepError::Locked)?;
    let pool = crate::batch::pool(opts.threads).map_err(SweepError::Threads)?;
    let threads = pool.current_num_threads();
    // The runs of this session: the whole sweep, or one shard's block of whole points.
    let span = plan.span();
    let mut rec = match resume::recover(plan, opts)? {
        Recovery::Continue(rec) => *rec,
        Recovery::Complete { failed } => {
            return Ok(Ending::Complete {
                runs: span.len(),
                failed,
                ran_now: 0,
                wall_seconds: started.elapsed().as_secs_f64(),
            });
        }
    };
    let journal = opts.out.join(JOURNAL_DIR);
    let pending: Vec<u64> = (rec.committed..span.runs.end)
        .filter(|id| !rec.journaled.contains(id))
        .collect();
    let already = span.len() - pending.len() as u64;
    let journaled = std::mem::take(&mut rec.journaled);
    let mut progress = Progress::new(opts.progress, span.len(), already, rec.failed);
    let mut committer = Committer::new(plan, &journal, rec);
    let work = Work {
        pending: &pending,
        journaled: &journaled,
        total: span.runs.end,
    };
    let result = schedule::run(&pool, plan, &work, &mut committer, &mut progress, stop);
    progress.finish();
    let buffered = result?;

    let next = committer.next();
    if next < span.runs.end {
        let done = next - span.runs.start + buffered + journaled.range(next..).count() as u64;
        return Ok(Ending::Interrupted { done, runs: span.len() });
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    let ran_now = pending.len() as u64;
    let failed = committer.failed();
    // Resuming a sweep that was already complete keeps its manifest (and its timing).
    if ran_now > 0 || !opts.out.join(MANIFEST_FILE).exists() {
        let session = Session {
            threads,
            ran_now,
            wall_seconds,
        };
        write_manifest(plan, opts, failed, session)?;
    }
    let _ = std::fs::remove_dir(&journal);
    Ok(Ending::Complete {
        runs: span.len(),
        failed,
        ran_now,
        wall_seconds,
    })
}

/// manifest.json: written last, atomically; its presence means the sweep is complete.
fn write_manifest(plan: &Plan, opts: &Options, failed: u64, session: Session) -> Result<(), SweepError> {
    let path = opts.out.join(MANIFEST_FILE);
    let encode = |source| SweepError::Encode {
        path: path.clone(),
        source,
    };
    let manifest = Manifest::new(plan, opts, failed, session).map_err(encode)?;
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(encode)?;
    write_atomic(&opts.out, MANIFEST_FILE, &bytes).map_err(SweepError::io("write", &path))?;
    Ok(())
}
