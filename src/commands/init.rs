//! `aimarket init DIR`: copies the configs embedded in the binary (baseline, scenarios, sweeps,
//! history) into a directory, in the layout of the repository's `configs/` (so `extends` and a
//! sweep's `base` keep working), for editing.

use std::path::PathBuf;

use super::CommandError;
use crate::config::embedded;

/// Where to copy the configs.
#[derive(Debug, Clone)]
pub struct InitPlan {
    /// Target directory (created if missing).
    pub dir: PathBuf,
    /// Overwrite existing files.
    pub force: bool,
}

/// Writes every embedded config under `plan.dir`; refuses (nothing written) when one of the
/// files exists already, unless forced.
pub fn execute(plan: &InitPlan) -> Result<(), CommandError> {
    let files = embedded::files();
    let targets: Vec<PathBuf> = files.iter().map(|(rel, _)| plan.dir.join(rel)).collect();
    if !plan.force {
        let existing: Vec<String> = targets
            .iter()
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(CommandError::input(format!(
                "{} already holds {} of the configs ({}{}); nothing was written. Choose another directory or pass --force to overwrite them",
                plan.dir.display(),
                existing.len(),
                existing[..existing.len().min(3)].join(", "),
                if existing.len() > 3 { ", …" } else { "" }
            )));
        }
    }
    for ((_, text), path) in files.iter().zip(&targets) {
        let fail = |e: std::io::Error| CommandError::failed(format!("{}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        std::fs::write(path, text).map_err(fail)?;
    }
    let d = plan.dir.display();
    let text = format!(
        "wrote {} configs to {d}: baseline.toml, scenarios/ ({}), sweeps/ ({}), history/ ({})\n\
         Run one:  aimarket run {d}/baseline.toml\n\
         Compare:  aimarket compare {d}/baseline.toml {d}/scenarios/eu_data_act.toml\n\
         Sweep:    aimarket sweep {d}/sweeps/smoke.toml\n",
        files.len(),
        embedded::names("scenarios").len(),
        embedded::names("sweeps").join(", "),
        embedded::names("history").join(", ")
    );
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    Ok(())
}
