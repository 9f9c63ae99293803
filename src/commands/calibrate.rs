//! `aimarket calibrate`: estimate parameters by the method of simulated moments, with a
//! progress bar and Ctrl-C handling, and say how it ended: complete (the estimate and where
//! the results are), interrupted (with the resume command), every evaluation failed, or
//! refused.

use std::path::PathBuf;

use super::CommandError;
use super::progress::interrupt_flag;
use crate::calibrate::runner::{self, Ending, Options};
use crate::calibrate::spec::Calibration;
use crate::output::format_number;

/// A validated `calibrate`: the resolved calibration file and how to run it.
#[derive(Debug, Clone)]
pub struct CalibratePlan {
    /// The calibration file as given (for messages).
    pub file: PathBuf,
    /// The validated calibration.
    pub calibration: Box<Calibration>,
    /// How to run it.
    pub options: Options,
    /// Print the notes and the result (not with --quiet).
    pub report: bool,
}

/// Runs or resumes the calibration.
pub fn execute(plan: &CalibratePlan) -> Result<(), CommandError> {
    let (cal, opts) = (&plan.calibration, &plan.options);
    let out = &opts.out;
    if plan.report {
        eprintln!(
            "calibrate {}: {} parameters, {} moments, {} replicates per evaluation, at most {} evaluations{} → {}",
            plan.file.display(),
            cal.parameters.len(),
            cal.moments.len(),
            cal.replicates,
            cal.optimiser.max_evaluations,
            if opts.resume { ", resuming" } else { "" },
            out.display()
        );
    }
    let stop = interrupt_flag();
    let ending = runner::execute(cal, opts, &stop).map_err(|e| {
        if e.is_refusal() {
            CommandError::input(e)
        } else {
            CommandError::failed(e)
        }
    })?;
    match ending {
        Ending::Complete {
            evaluations,
            ran_now,
            objective,
            termination,
            wall_seconds,
        } => {
            if plan.report {
                eprintln!(
                    "ran {ran_now} of {evaluations} evaluations in {wall_seconds:.2} s ({}); best objective {}; wrote {}",
                    termination.name(),
                    format_number(objective),
                    out.display()
                );
                let best = std::fs::read(out.join("best.json"))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
                if let Some(params) = best.as_ref().and_then(|b| b["parameters"].as_array()) {
                    for p in params {
                        let se = p["standard_error"]
                            .as_f64()
                            .map_or(String::new(), |se| format!(" (standard error {})", format_number(se)));
                        eprintln!(
                            "  {} = {}{se}{}",
                            p["key"].as_str().unwrap_or(""),
                            p["value"],
                            if p["at_bound"].as_bool() == Some(true) {
                                "   (at a bound)"
                            } else {
                                ""
                            }
                        );
                    }
                }
            }
            Ok(())
        }
        Ending::AlreadyComplete => {
            if plan.report {
                eprintln!(
                    "{} already holds this calibration complete; nothing to do",
                    out.display()
                );
            }
            Ok(())
        }
        Ending::Interrupted { done, budget } => Err(CommandError::Interrupted(format!(
            "interrupted: {done} evaluations (of at most {budget}) saved; resume with: aimarket calibrate {} --out {} --resume",
            plan.file.display(),
            out.display()
        ))),
        Ending::AllFailed { first } => Err(CommandError::failed(format!(
            "every evaluation failed (see {}); the first: {first}",
            out.join("evaluations.csv").display()
        ))),
    }
}
