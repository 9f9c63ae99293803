//! `aimarket rerun MANIFEST`: repeats a run from its manifest.json, whose `config` is the fully
//! resolved config (every override applied, the seed included). The same binary writes the
//! same metrics.csv, shares.csv and agents.csv byte for byte, and a manifest that differs only
//! in `wall_seconds`. A manifest from another version or commit is rerun too, with a note that
//! its results may differ.

use std::path::{Path, PathBuf};

use super::CommandError;
use super::progress::show_progress;
use super::run::{RunPlan, check_target};
use crate::config::{self, Config};
use crate::output::run_files::{GIT_COMMIT, GIT_DIRTY};

/// Reads the manifest and plans the run; nothing runs.
pub fn plan(manifest: &Path, out: Option<PathBuf>, force: bool, quiet: bool) -> Result<RunPlan, CommandError> {
    let file = if manifest.is_dir() {
        manifest.join("manifest.json")
    } else {
        manifest.to_path_buf()
    };
    let shown = file.display().to_string();
    let bytes = std::fs::read(&file).map_err(|e| CommandError::input(format!("{shown}: cannot be read: {e}")))?;
    let m: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| CommandError::input(format!("{shown}: is not a JSON manifest: {e}")))?;
    let Some(resolved) = m.get("config").filter(|_| m.get("config_hash").is_some()) else {
        return Err(CommandError::input(format!(
            "{shown}: is not the manifest of `aimarket run` (it has no `config` and `config_hash`); a sweep's or comparison's runs are repeated with `aimarket run` and the seeds in their tables"
        )));
    };
    // Read from the bytes, not from `resolved`: a `serde_json::Value` sorts its keys, which
    // would reorder the agents (their file order is their order in the model).
    #[derive(serde::Deserialize)]
    struct Resolved {
        config: Config,
    }
    let _ = resolved;
    let config = serde_json::from_slice::<Resolved>(&bytes)
        .map_err(|e| CommandError::input(format!("{shown}: config is invalid: {e}")))?
        .config;
    config::validate(&config, &format!("{shown} (config)")).map_err(CommandError::input)?;
    let hash = config::hash(&config);
    if m["config_hash"].as_str() != Some(hash.as_str()) {
        return Err(CommandError::input(format!(
            "{shown}: config does not match its config_hash (edited?): expected {}, got {hash}",
            m["config_hash"]
        )));
    }
    let mut notes = Vec::new();
    if m["aimarket_version"].as_str() != Some(env!("CARGO_PKG_VERSION")) {
        notes.push(format!(
            "it was written by aimarket {}, this is {}",
            m["aimarket_version"],
            env!("CARGO_PKG_VERSION")
        ));
    }
    match m.get("git_commit").and_then(|c| c.as_str()) {
        Some(c) if c != GIT_COMMIT || c == "unknown" => {
            notes.push(format!("it was written at commit {c}, this binary is {GIT_COMMIT}"))
        }
        None => notes.push("it records no commit".to_string()),
        _ if GIT_DIRTY != "false" => notes.push("this binary was built from a modified tree".to_string()),
        _ => {}
    }
    if !notes.is_empty() && !quiet {
        eprintln!("note: {shown}: {}; the results may differ", notes.join("; "));
    }
    let out = out.unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).join("rerun"));
    crate::output::check_out_dir(&out).map_err(CommandError::input)?;
    check_target(&out, &config, force)?;
    Ok(RunPlan {
        config,
        out,
        progress: show_progress(quiet),
        report: !quiet,
        threads: 1,
    })
}
