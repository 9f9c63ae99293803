//! `aimarket sweep`: run a sweep plan with a progress bar and Ctrl-C handling, and say how it
//! ended: every run ok, some failed (all others finished), interrupted (with the resume
//! command), or refused.

use std::path::PathBuf;

use super::CommandError;
use super::progress::interrupt_flag;
use crate::sweep::SweepError;
use crate::sweep::runner::{self, Ending, Options};
use crate::sweep::spec::Plan;

/// A validated `sweep`: the resolved sweep file and how to run it.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// The sweep file as given (for messages).
    pub file: PathBuf,
    /// The resolved plan (every point validated up to the model's own checks); boxed, as it is
    /// by far the largest plan of any command.
    pub plan: Box<Plan>,
    /// How to run it.
    pub options: Options,
}

/// How a failed sweep session is reported: refused before anything in the output directory
/// changed (a directory holding another sweep or one that cannot be resumed) is bad input;
/// reading or writing the directory failing is a failure.
fn failure(e: SweepError) -> CommandError {
    match e {
        SweepError::Threads(_)
        | SweepError::Locked(_)
        | SweepError::Occupied { .. }
        | SweepError::Foreign { .. }
        | SweepError::CorruptState { .. }
        | SweepError::Mismatch { .. } => CommandError::input(e),
        SweepError::Io { .. }
        | SweepError::Encode { .. }
        | SweepError::ForeignTable { .. }
        | SweepError::MissingColumn { .. }
        | SweepError::CorruptJournal { .. }
        | SweepError::MisplacedJournal { .. }
        | SweepError::JournalGone { .. }
        | SweepError::Point(_) => CommandError::failed(e),
    }
}

/// Runs or resumes the sweep.
pub fn execute(sweep: &SweepPlan) -> Result<(), CommandError> {
    let (plan, opts) = (&sweep.plan, &sweep.options);
    let out = &opts.out;
    let span = plan.span();
    if !opts.quiet_notes {
        let shard = match span.shard {
            Some(s) => format!(
                "; shard {}/{}: points {}..{}, runs {}..{} ({} runs)",
                s.index,
                s.count,
                span.points.start,
                span.points.end,
                span.runs.start,
                span.runs.end,
                span.len()
            ),
            None => String::new(),
        };
        eprintln!(
            "sweep {}: {} points × {} replicates = {} runs ({} design){shard}{} → {}",
            sweep.file.display(),
            plan.points.len(),
            plan.replicates,
            plan.runs(),
            plan.design.name(),
            if opts.resume { ", resuming" } else { "" },
            out.display()
        );
    }
    let stop = interrupt_flag();
    match runner::execute(plan, opts, &stop).map_err(failure)? {
        Ending::Complete {
            runs,
            failed,
            ran_now,
            wall_seconds,
        } => {
            if !opts.quiet_notes && ran_now == 0 && span.shard.is_some() {
                eprintln!("{} already holds this shard complete; nothing to do", out.display());
            } else if !opts.quiet_notes {
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
                return Err(CommandError::failed(format!(
                    "{failed} of {runs} runs failed (status `failed` in {}, with the message); the other runs finished",
                    out.join("runs.csv").display()
                )));
            }
            Ok(())
        }
        Ending::Interrupted { done, runs } => Err(CommandError::Interrupted(format!(
            "interrupted: {done} of {runs} runs done; resume with: aimarket sweep {}{} --out {} --resume{}",
            sweep.file.display(),
            span.shard
                .map(|s| format!(" --shard {}/{}", s.index, s.count))
                .unwrap_or_default(),
            out.display(),
            if opts.trajectories { " --trajectories" } else { "" }
        ))),
    }
}
