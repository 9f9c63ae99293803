//! `aimarket scenarios`: list the scenario library with a one-line description each.

use std::path::{Path, PathBuf};

use super::CommandError;
use crate::config::scenario::discover;

/// Where to look for scenarios.
#[derive(Debug, Clone)]
pub struct ScenariosPlan {
    /// Directory holding scenario configs.
    pub dir: PathBuf,
}

/// Prints one line per scenario and how to run or compare one.
pub fn execute(plan: &ScenariosPlan) -> Result<(), CommandError> {
    list(&plan.dir)
}

/// One line per scenario with its description.
fn list(dir: &Path) -> Result<(), CommandError> {
    let scenarios = discover(dir).map_err(CommandError::input)?;
    if scenarios.is_empty() {
        return Err(CommandError::input(format!(
            "{}: holds no scenario (*.toml) files",
            dir.display()
        )));
    }
    let width = scenarios.iter().map(|s| s.header.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for s in &scenarios {
        text.push_str(&format!("{:width$}  {}\n", s.header.name, s.header.description));
    }
    let example = scenarios[0].path.display();
    text.push_str("\nEach file's header states its question, sources, expected effect and any finding.\n");
    text.push_str(&format!("Run one:  aimarket run {example}\n"));
    text.push_str(&format!(
        "Compare:  aimarket compare configs/baseline.toml {example} [more scenarios…] --replicates 8\n"
    ));
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    Ok(())
}
