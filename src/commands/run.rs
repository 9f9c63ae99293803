//! `aimarket run`: one simulation written to metrics.csv, shares.csv, agents.csv and
//! manifest.json.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::CommandError;
use super::progress::{bar, interrupt_flag};
use crate::config::Config;
use crate::output::{INCOMPLETE_FILE, RunWriter};
use crate::sim::{RunError, simulate_with_threads};

/// A validated `run`: the resolved config and where to write.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// The config with every override applied.
    pub config: Config,
    /// Output directory (created if missing).
    pub out: PathBuf,
    /// Draw a progress bar.
    pub progress: bool,
    /// Print the closing summary line.
    pub report: bool,
    /// Threads for the enterprise phase (1: on the calling thread).
    pub threads: usize,
}

/// Files of a run's results (and the note of a set being replaced).
const RESULT_FILES: [&str; 5] = [
    "manifest.json",
    "metrics.csv",
    "shares.csv",
    "agents.csv",
    INCOMPLETE_FILE,
];

/// Refuses to write into `out` when it holds results this run would overwrite: another run's
/// (its manifest's `config_hash` differs: a different config or seed), a sweep's or a
/// comparison's, or an incomplete set. A directory holding this very run (same resolved
/// config) is fine: the run would write the same files. `force` skips the check.
pub fn check_target(out: &Path, config: &Config, force: bool) -> Result<(), CommandError> {
    if force {
        return Ok(());
    }
    let found: Vec<&str> = RESULT_FILES.iter().copied().filter(|f| out.join(f).exists()).collect();
    if found.is_empty() {
        return Ok(());
    }
    let manifest: Option<serde_json::Value> = std::fs::read(out.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let hash = manifest
        .as_ref()
        .and_then(|m| m.get("config_hash"))
        .and_then(|h| h.as_str());
    let what = match (&manifest, hash) {
        (_, Some(h)) if h == crate::config::hash(config) && !found.contains(&INCOMPLETE_FILE) => return Ok(()),
        (_, Some(_)) => "the results of another run (a different config or seed)".to_string(),
        (Some(m), None) if m.get("command").and_then(|c| c.as_str()) == Some("compare") => {
            "the results of a comparison".to_string()
        }
        (Some(m), None) if m.get("sweep_file").is_some() => "the results of a sweep".to_string(),
        _ => format!("results of another run ({})", found.join(", ")),
    };
    Err(CommandError::input(format!(
        "{} holds {what}; they would be overwritten. Choose another --out, or pass --force to replace them",
        out.display()
    )))
}

/// Runs the plan; files appear only when the run succeeds.
pub fn execute(plan: &RunPlan) -> Result<(), CommandError> {
    let config = &plan.config;
    let bar = bar(plan.progress, u64::from(config.run.ticks), "months");
    let fail = |e: std::io::Error| CommandError::failed(format!("{}: {e}", plan.out.display()));
    // Held until the results are committed: no other run writes into `out` meanwhile.
    let _lock = crate::output::lock::lock_dir_itself(&plan.out).map_err(CommandError::input)?;
    let mut writer = RunWriter::create(&plan.out).map_err(fail)?;
    let stop = interrupt_flag();
    let result = simulate_with_threads(
        config,
        plan.threads,
        &mut writer,
        &mut |done| {
            if let Some(b) = &bar {
                b.set_position(u64::from(done));
            }
        },
        &|| stop.load(Ordering::SeqCst),
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(info) => {
            let paths = writer.finish(config, &info).map_err(|e| {
                let marked = plan.out.join(INCOMPLETE_FILE).exists();
                CommandError::failed(if marked {
                    format!(
                        "{}: could not commit the results: {e}; the directory holds an incomplete set (see {INCOMPLETE_FILE} there)",
                        plan.out.display()
                    )
                } else {
                    format!("{}: {e}; no output files were written (older results are kept)", plan.out.display())
                })
            })?;
            if plan.report {
                eprintln!(
                    "ran {} months × {} enterprises in {:.2} s; wrote {}",
                    config.run.ticks,
                    config.run.enterprises,
                    info.wall_seconds,
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(())
        }
        Err(RunError::Interrupted) => Err(CommandError::Interrupted(
            "interrupted; no output files were written".into(),
        )),
        Err(e) => Err(CommandError::failed(format!("{e}; no output files were written"))),
    }
}
