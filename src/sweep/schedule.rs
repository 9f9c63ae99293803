//! Running the pending runs in parallel and committing them in run-id order.
//!
//! Workers (a rayon pool) take run ids from a shared atomic counter, so runs start roughly in
//! id order and the reorder buffer stays small. Each finished run is first written to the
//! journal (complete or not at all), then sent to the committer on the calling thread, which
//! holds runs that finish early in a reorder buffer and appends rows strictly in run-id order:
//! trajectory rows (flushed) and then the run's row in runs.csv — that row is the commit marker.
//! When the last replicate of a point is committed, the point's summary rows are appended and
//! flushed, and only then are the point's journal files deleted. Because rows are written in id
//! order, the output does not depend on the thread count; `resume` relies on this order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use super::error::SweepError;
use super::journal::{self, RunRecord};
use super::resume::Recovered;
use super::spec::Plan;
use super::tables::Table;
use crate::batch::{panic_message, run_in_memory};
use crate::config::{Config, MetricValues};

/// Appends committed runs in id order and summarises completed points.
pub struct Committer<'a> {
    plan: &'a Plan,
    journal: PathBuf,
    runs: Table,
    summary: Table,
    trajectories: Option<Table>,
    /// Next run id to commit.
    next: u64,
    /// Rows of the ok runs of the point being assembled, in replicate order.
    point_rows: Vec<Vec<MetricValues>>,
    /// Failed runs committed so far (all sessions).
    failed: u64,
}

impl<'a> Committer<'a> {
    /// Continues from what [`super::resume::recover`] found on disk.
    pub fn new(plan: &'a Plan, journal: &Path, rec: Recovered) -> Committer<'a> {
        Committer {
            plan,
            journal: journal.to_path_buf(),
            runs: rec.runs,
            summary: rec.summary,
            trajectories: rec.trajectories,
            next: rec.committed,
            point_rows: rec.point_rows,
            failed: rec.failed,
        }
    }

    /// Next run id to commit (= runs committed so far).
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Failed runs committed so far.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Commits run `self.next()`.
    fn commit(&mut self, rec: RunRecord) -> Result<(), SweepError> {
        debug_assert_eq!(rec.run, self.next);
        let r = self.plan.replicates;
        let (point, replicate) = (rec.run / r, rec.run % r);
        if let Some(t) = self.trajectories.as_mut() {
            t.write_trajectory(self.plan, &rec)?;
            // Trajectory rows must be on disk before the runs.csv row that commits them.
            t.flush()?;
        }
        self.runs.write_run(&rec, r)?;
        self.runs.flush()?;
        self.next += 1;
        if rec.error.is_none() {
            self.point_rows.push(rec.rows);
        } else {
            self.failed += 1;
        }
        if replicate + 1 == r {
            self.finish_point(point)?;
        }
        Ok(())
    }

    /// Writes the summary of `point` from the collected rows, then drops its journals.
    fn finish_point(&mut self, point: u64) -> Result<(), SweepError> {
        let runs = std::mem::take(&mut self.point_rows);
        self.summary.write_summary(self.plan, point, &runs)?;
        self.summary.flush()?;
        let r = self.plan.replicates;
        for run in point * r..(point + 1) * r {
            journal::remove(&self.journal, run)?;
        }
        Ok(())
    }
}

/// The progress bar (when drawn): runs done and failures so far.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// Failures shown on the bar: committed ones plus those received or replayed since.
    failed: u64,
}

impl Progress {
    /// A bar of `total` runs of which `done` are done and `failed` failed (`draw`: draw it).
    pub fn new(draw: bool, total: u64, done: u64, failed: u64) -> Progress {
        let bar = draw.then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} runs ({per_sec}, eta {eta}) {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_position(done);
            bar.reset_eta();
            bar
        });
        let progress = Progress { bar, failed };
        progress.show_failed();
        progress
    }

    fn show_failed(&self) {
        if let Some(b) = &self.bar
            && self.failed > 0
        {
            b.set_message(format!("{} failed", self.failed));
        }
    }

    /// A run finished in this session.
    fn ran(&mut self, rec: &RunRecord) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
        self.replayed(rec);
    }

    /// A run of an earlier session was replayed from its journal.
    fn replayed(&mut self, rec: &RunRecord) {
        if rec.error.is_some() {
            self.failed += 1;
            self.show_failed();
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The runs of a session.
pub struct Work<'a> {
    /// Runs to execute, in id order.
    pub pending: &'a [u64],
    /// Runs finished in an earlier session, to be read back from the journal and committed.
    pub journaled: &'a BTreeSet<u64>,
    /// One past the last run of the sweep (or shard): commit up to this id.
    pub total: u64,
}

/// Executes `work.pending` on `pool` and commits every run up to `work.total` until all are
/// committed or `stop` is set. Returns how many runs finished but were not committed (they
/// stay journaled for `--resume`). On an error the workers are halted and the error returned.
pub fn run(
    pool: &rayon::ThreadPool,
    plan: &Plan,
    work: &Work,
    committer: &mut Committer,
    progress: &mut Progress,
    stop: &AtomicBool,
) -> Result<u64, SweepError> {
    let Work {
        pending,
        journaled,
        total,
    } = *work;
    let threads = pool.current_num_threads();
    let journal = committer.journal.clone();
    let counter = AtomicUsize::new(0);
    let halt = AtomicBool::new(false);
    // Bounded, so that workers wait rather than pile results up if the writer falls behind
    // (many cores with --trajectories). The writer always drains it into the reorder buffer, so
    // a full channel cannot block the run the writer is waiting for.
    let (tx, rx) = mpsc::sync_channel::<Result<RunRecord, SweepError>>(2 * threads);
    let mut buffer: BTreeMap<u64, RunRecord> = BTreeMap::new();
    pool.in_place_scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (counter, halt, journal) = (&counter, &halt, &journal);
            scope.spawn(move |_| {
                let mut cache = None;
                loop {
                    if stop.load(Ordering::SeqCst) || halt.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = counter.fetch_add(1, Ordering::SeqCst);
                    let Some(&run) = pending.get(i) else { break };
                    let rec = execute_run(plan, run, &mut cache);
                    let msg = journal::write(journal, &rec).map(|()| rec);
                    if tx.send(msg).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let outcome = (|| {
            while committer.next < total {
                let next = committer.next;
                if journaled.contains(&next) {
                    let rec = journal::read(&journal, next)?;
                    progress.replayed(&rec);
                    committer.commit(rec)?;
                } else if let Some(rec) = buffer.remove(&next) {
                    committer.commit(rec)?;
                } else {
                    match rx.recv() {
                        Ok(msg) => {
                            let rec = msg?;
                            progress.ran(&rec);
                            buffer.insert(rec.run, rec);
                        }
                        // Every worker has stopped (interrupt): what is buffered stays journaled.
                        Err(_) => break,
                    }
                }
            }
            Ok(())
        })();
        if outcome.is_err() {
            halt.store(true, Ordering::SeqCst);
        }
        drop(rx);
        outcome
    })?;
    Ok(buffer.len() as u64)
}

/// A run that never stops early: on Ctrl-C in-flight runs finish and are kept.
static NEVER: AtomicBool = AtomicBool::new(false);

/// Runs one (point, replicate). Never panics: a panic or a rejected config is a failed run.
fn execute_run(plan: &Plan, run: u64, cache: &mut Option<(u64, Result<Config, String>)>) -> RunRecord {
    let r = plan.replicates;
    let (point, replicate) = (run / r, run % r);
    let seed = plan.run_seed(point, replicate);
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Replicates of a point are usually taken by the same worker in a row; resolve once.
        if cache.as_ref().is_none_or(|(p, _)| *p != point) {
            *cache = Some((point, plan.run_config(point as usize, seed)));
        }
        let config = match cache {
            Some((_, Ok(c))) => c,
            Some((_, Err(e))) => return Err(e.clone()),
            None => unreachable!("filled above"),
        };
        let mut config = config.clone();
        config.run.seed = seed;
        let out = run_in_memory(&config, &NEVER).map_err(|e| e.to_string())?;
        if out.recorded.rows.is_empty() {
            return Err("the run recorded no ticks".to_string());
        }
        Ok(out.recorded.rows)
    }));
    let result = match outcome {
        Ok(r) => r,
        Err(panic) => Err(panic_message(&panic)),
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(rows) => RunRecord {
            run,
            seed,
            error: None,
            wall_seconds,
            rows,
        },
        // One line per run in runs.csv, whatever the message looks like.
        Err(e) => RunRecord {
            run,
            seed,
            error: Some(e.replace(['\n', '\r'], " ")),
            wall_seconds,
            rows: Vec::new(),
        },
    }
}
