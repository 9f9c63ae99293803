//! The shipped configs (`configs/` at build time) embedded in the binary, so that
//! `aimarket run baseline`, `aimarket compare baseline eu_data_act` and `aimarket sweep smoke`
//! work from any directory, and `aimarket init DIR` can copy them out for editing.
//!
//! An embedded file has a virtual path under [`ROOT`] (`embedded:/configs/scenarios/eu_data_act.toml`)
//! that the loaders read like a file; `extends = "../baseline.toml"` and a sweep's
//! `base = "../baseline.toml"` resolve inside the embedded set. [`resolve`] turns a command-line
//! argument into a path: an existing file wins; otherwise a shipped config's name
//! (`baseline`, `eu_data_act`, `scenarios/eu_data_act.toml`, `history/2019`, `configs/baseline.toml`, …).

use std::path::{Component, Path, PathBuf};

mod files {
    include!(concat!(env!("OUT_DIR"), "/embedded_configs.rs"));
}

/// Prefix of the virtual paths of embedded configs.
pub const ROOT: &str = "embedded:";

/// Every embedded config: (path relative to `configs/`, e.g. `scenarios/eu_data_act.toml`,
/// contents), sorted by path.
pub fn files() -> &'static [(&'static str, &'static str)] {
    files::FILES
}

/// What kind of file a command expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A model config: the baseline or a scenario.
    Config,
    /// A sweep file.
    Sweep,
}

/// The virtual path of an embedded file given relative to `configs/`.
pub fn virtual_path(rel: &str) -> PathBuf {
    PathBuf::from(format!("{ROOT}/configs/{rel}"))
}

/// The contents of an embedded file by its virtual path (`..` and `.` resolved), or `None`
/// when `path` is not under [`ROOT`] or names no embedded file.
pub fn read(path: &Path) -> Option<&'static str> {
    let text = path.to_str()?;
    let rest = text.strip_prefix(ROOT)?;
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(rest).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    let rel = parts.strip_prefix(&["configs"][..])?.join("/");
    files().iter().find(|(p, _)| *p == rel).map(|(_, t)| *t)
}

/// Whether `path` is a virtual path of an embedded file.
pub fn is_embedded(path: &Path) -> bool {
    read(path).is_some()
}

/// The path a command-line argument names: itself when it exists on disk (or is already a
/// virtual path); otherwise the embedded config of that name, if any; otherwise itself (so
/// that the loader reports it missing).
pub fn resolve(arg: &Path, expect: Expect) -> PathBuf {
    if arg.exists() || is_embedded(arg) {
        return arg.to_path_buf();
    }
    let Some(name) = arg.to_str() else {
        return arg.to_path_buf();
    };
    let name = name.strip_prefix("./").unwrap_or(name);
    let name = name.strip_prefix("configs/").unwrap_or(name);
    let stem = name.strip_suffix(".toml").unwrap_or(name);
    let candidates: Vec<String> = match expect {
        Expect::Config => vec![format!("{stem}.toml"), format!("scenarios/{stem}.toml")],
        Expect::Sweep => vec![format!("sweeps/{stem}.toml"), format!("{stem}.toml")],
    };
    for c in candidates {
        let path = virtual_path(&c);
        if let Some(text) = read(&path) {
            // A sweep name must not pick a model config and vice versa.
            let is_sweep = c.starts_with("sweeps/");
            if (expect == Expect::Sweep) == is_sweep && !text.is_empty() {
                return path;
            }
        }
    }
    arg.to_path_buf()
}

/// The names of the embedded files in a folder (`scenarios`, `sweeps`), by file stem.
pub fn names(folder: &str) -> Vec<&'static str> {
    files()
        .iter()
        .filter_map(|(p, _)| p.strip_prefix(folder)?.strip_prefix('/')?.strip_suffix(".toml"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_config_is_embedded_byte_for_byte() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        assert!(
            files().len() >= 10,
            "{:?}",
            files().iter().map(|f| f.0).collect::<Vec<_>>()
        );
        for (rel, text) in files() {
            assert_eq!(std::fs::read_to_string(root.join(rel)).unwrap(), *text, "{rel}");
        }
        assert!(names("scenarios").contains(&"eu_data_act"));
        assert!(names("sweeps").contains(&"smoke"));
        assert!(names("history").contains(&"2019"));
    }

    #[test]
    fn names_resolve_to_embedded_configs_and_parents_resolve_inside_the_set() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = |n: &str| tmp.path().join("nothing-here").join(n);
        // Relative names that do not exist in the current directory.
        for (arg, expect, want) in [
            ("baseline", Expect::Config, "embedded:/configs/baseline.toml"),
            (
                "eu_data_act",
                Expect::Config,
                "embedded:/configs/scenarios/eu_data_act.toml",
            ),
            (
                "scenarios/eu_data_act.toml",
                Expect::Config,
                "embedded:/configs/scenarios/eu_data_act.toml",
            ),
            (
                "configs/baseline.toml",
                Expect::Config,
                "embedded:/configs/baseline.toml",
            ),
            ("smoke", Expect::Sweep, "embedded:/configs/sweeps/smoke.toml"),
            ("history/2019", Expect::Config, "embedded:/configs/history/2019.toml"),
            (
                "history/2019.toml",
                Expect::Config,
                "embedded:/configs/history/2019.toml",
            ),
        ] {
            let got = resolve(Path::new(arg), expect);
            // Inside the repository `configs/baseline.toml` exists and wins.
            if Path::new(arg).exists() {
                assert_eq!(got, Path::new(arg));
            } else {
                assert_eq!(got, Path::new(want), "{arg}");
            }
        }
        assert_eq!(resolve(&missing("smoke"), Expect::Config), missing("smoke"));
        assert_eq!(resolve(Path::new("nope"), Expect::Config), Path::new("nope"));
        assert_eq!(resolve(Path::new("baseline"), Expect::Sweep), Path::new("baseline"));
        let base = read(Path::new("embedded:/configs/scenarios/../baseline.toml")).unwrap();
        assert!(base.contains("[run]"));
        assert!(read(Path::new("embedded:/configs/../../etc/passwd")).is_none());
        assert!(read(Path::new("configs/baseline.toml")).is_none());
    }
}
