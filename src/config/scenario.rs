//! The scenario library: the configs in `configs/scenarios/` and their headers.
//!
//! A scenario is a config that changes the baseline by events (`extends = "../baseline.toml"`
//! plus `[[events]]`). Its header is a block of comment lines at the top of the file:
//!
//! ```text
//! # <name> — <one-line description>
//! # Question: what the scenario asks
//! # Source: where the events come from (articles, research notes)
//! # Expected: the direction of its effect according to the sources
//! # Finding: (optional) what the model shows where it differs
//! ```
//!
//! `<name>` must equal the file stem. A field may continue on following comment lines that
//! start with `#` and at least two spaces. The header ends at the first line that is not a
//! comment.

use std::path::{Path, PathBuf};

/// The parsed header of a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioHeader {
    /// Scenario name (the file stem).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The question it asks.
    pub question: String,
    /// Its sources.
    pub source: String,
    /// Expected direction of its effect, from the sources.
    pub expected: String,
    /// What the model shows, where it differs from the expectation.
    pub finding: Option<String>,
}

/// A scenario file and its header.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Path of the config.
    pub path: PathBuf,
    /// Its header.
    pub header: ScenarioHeader,
}

/// Parses the header of a scenario file's text; `file` names it in errors.
pub fn parse_header(text: &str, file: &str) -> Result<ScenarioHeader, String> {
    let mut lines = text.lines().map(str::trim_end).take_while(|l| l.starts_with('#'));
    let first = lines
        .next()
        .ok_or_else(|| format!("{file}: has no header; expected a first line \"# <name> — <one-line description>\""))?;
    let title = first.trim_start_matches('#').trim();
    let (name, description) = title
        .split_once(" — ")
        .map(|(n, d)| (n.trim().to_string(), d.trim().to_string()))
        .filter(|(n, d)| !n.is_empty() && !d.is_empty() && !n.contains(' '))
        .ok_or_else(|| format!("{file}: first line is \"{first}\"; expected \"# <name> — <one-line description>\""))?;
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in lines {
        let body = line.trim_start_matches('#');
        if body.starts_with("  ") {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(body.trim());
            }
            continue;
        }
        if let Some((key, value)) = body.trim().split_once(':')
            && !key.is_empty()
            && !key.contains(' ')
        {
            fields.push((key.to_string(), value.trim().to_string()));
        }
    }
    let field = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let required = |key: &str| field(key).ok_or_else(|| format!("{file}: header has no \"# {key}: …\" line"));
    Ok(ScenarioHeader {
        name,
        description,
        question: required("Question")?,
        source: required("Source")?,
        expected: required("Expected")?,
        finding: field("Finding"),
    })
}

/// Reads every `*.toml` in `dir` (sorted by name) and parses its header; the header's name
/// must equal the file stem.
pub fn discover(dir: &Path) -> Result<Vec<Scenario>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: cannot be read: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut scenarios = Vec::with_capacity(paths.len());
    for path in paths {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{file}: cannot be read: {e}"))?;
        let header = parse_header(&text, &file)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if header.name != stem {
            return Err(format!(
                "{file}: header names the scenario \"{}\"; expected the file name \"{stem}\"",
                header.name
            ));
        }
        scenarios.push(Scenario { path, header });
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_with_continuations_and_optional_finding() {
        let text =
            "# eu — cap egress\n# Question: does it?\n#   really?\n# Source: MD §2c\n# Expected: hhi down\n\n[run]\n";
        let h = parse_header(text, "eu.toml").unwrap();
        assert_eq!(h.name, "eu");
        assert_eq!(h.description, "cap egress");
        assert_eq!(h.question, "does it? really?");
        assert_eq!(h.finding, None);
    }

    #[test]
    fn malformed_headers_name_the_file_and_the_missing_part() {
        let err = parse_header("# eu cap egress\n", "eu.toml").unwrap_err();
        assert!(err.contains("eu.toml") && err.contains("<name> — "), "{err}");
        let err = parse_header("# eu — x\n# Question: q\n# Source: s\n", "eu.toml").unwrap_err();
        assert!(err.contains("Expected"), "{err}");
        assert!(parse_header("[run]\n", "x.toml").unwrap_err().contains("no header"));
    }
}
