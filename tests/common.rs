//! Shared helpers of the integration tests.

use std::path::{Path, PathBuf};

use aimarket::config::{self, Config};

/// Path of a file in the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The shipped baseline with overrides applied (`key=value`, as `--set`).
pub fn baseline(overrides: &[&str]) -> Config {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    config::load(&repo("configs/baseline.toml"), &overrides).expect("baseline config with overrides is valid")
}

/// A small, fast version of the baseline: `enterprises` agents over `ticks` months.
pub fn small_baseline(enterprises: u32, ticks: u32, overrides: &[&str]) -> Config {
    let mut all = vec![format!("run.enterprises={enterprises}"), format!("run.ticks={ticks}")];
    all.extend(overrides.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    baseline(&refs)
}

/// Path of the built `aimarket` binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_aimarket"))
}
