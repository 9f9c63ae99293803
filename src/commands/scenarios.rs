//! `aimarket scenarios`: list the scenario library with a one-line description each — the
//! files of `--dir`, or of `configs/scenarios` when it exists, else the scenarios embedded in
//! the binary (runnable by name from any directory).

use std::path::{Path, PathBuf};

use super::CommandError;
use crate::config::embedded;
use crate::config::scenario::{ScenarioHeader, discover, parse_header};

/// Default scenario directory, used when it exists.
pub const DEFAULT_DIR: &str = "configs/scenarios";

/// Where to look for scenarios.
#[derive(Debug, Clone)]
pub struct ScenariosPlan {
    /// Directory holding scenario configs; `None`: [`DEFAULT_DIR`] if it exists, else the
    /// embedded scenarios.
    pub dir: Option<PathBuf>,
}

/// Prints one line per scenario and how to run or compare one.
pub fn execute(plan: &ScenariosPlan) -> Result<(), CommandError> {
    let dir = plan
        .dir
        .clone()
        .or_else(|| Some(PathBuf::from(DEFAULT_DIR)).filter(|d| d.is_dir()));
    let text = match dir {
        Some(dir) => list_dir(&dir)?,
        None => list_embedded()?,
    };
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    Ok(())
}

fn table(headers: &[&ScenarioHeader]) -> String {
    let width = headers.iter().map(|h| h.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for h in headers {
        text.push_str(&format!("{:width$}  {}\n", h.name, h.description));
    }
    text.push_str("\nEach file's header states its question, sources, expected effect and any finding.\n");
    text
}

/// The scenarios of a directory; the hint uses their paths (as given, so it works from the
/// directory the command was run in) and the baseline beside them if there is one.
fn list_dir(dir: &Path) -> Result<String, CommandError> {
    let scenarios = discover(dir).map_err(CommandError::input)?;
    if scenarios.is_empty() {
        return Err(CommandError::input(format!(
            "{}: holds no scenario (*.toml) files",
            dir.display()
        )));
    }
    let mut text = table(&scenarios.iter().map(|s| &s.header).collect::<Vec<_>>());
    let example = scenarios[0].path.display();
    let beside = dir.parent().map(|p| p.join("baseline.toml")).filter(|p| p.is_file());
    let base = beside.map_or_else(|| "baseline".to_string(), |p| p.display().to_string());
    text.push_str(&format!("Run one:  aimarket run {example}\n"));
    text.push_str(&format!(
        "Compare:  aimarket compare {base} {example} [more scenarios…] --replicates 8\n"
    ));
    Ok(text)
}

/// The scenarios embedded in the binary; the hint uses their names, which work anywhere.
fn list_embedded() -> Result<String, CommandError> {
    let mut headers = Vec::new();
    for name in embedded::names("scenarios") {
        let path = embedded::virtual_path(&format!("scenarios/{name}.toml"));
        let source = embedded::read(&path).unwrap_or_default();
        headers.push(parse_header(source, &path.display().to_string()).map_err(CommandError::input)?);
    }
    let Some(first) = headers.first().map(|h| h.name.clone()) else {
        return Err(CommandError::input("this binary embeds no scenarios"));
    };
    let mut text = format!("Scenarios shipped with aimarket ({DEFAULT_DIR} is not here; these are built in):\n\n");
    text.push_str(&table(&headers.iter().collect::<Vec<_>>()));
    text.push_str(&format!("Run one:  aimarket run {first}\n"));
    text.push_str(&format!(
        "Compare:  aimarket compare baseline {first} [more scenarios…] --replicates 8\n"
    ));
    text.push_str("Edit:     aimarket init my-configs   (copies baseline, scenarios and sweeps out)\n");
    Ok(text)
}
