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

/// The baseline with `extra` TOML merged over it (events, sections), `enterprises` agents over
/// `ticks` months, then `overrides` (`key=value`, as `--set`).
pub fn with_extra(enterprises: u32, ticks: u32, extra: &str, overrides: &[&str]) -> Config {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scenario.toml");
    let text = format!("extends = '{}'\n{extra}\n", repo("configs/baseline.toml").display());
    std::fs::write(&path, text).expect("write temp config");
    let mut all = vec![format!("run.enterprises={enterprises}"), format!("run.ticks={ticks}")];
    all.extend(overrides.iter().map(|s| s.to_string()));
    config::load(&path, &all).unwrap_or_else(|e| panic!("test config is valid: {e}"))
}

/// Path of the built `aimarket` binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_aimarket"))
}

/// Runs the `aimarket` binary from the repository root with `args` and extra environment
/// variables; stdin is closed and stdout/stderr are captured (so neither is a terminal).
pub fn aimarket(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(binary())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(repo("."))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the aimarket binary runs")
}

/// Names of the entries of a directory (hidden ones included), sorted; empty if it is missing.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("readable entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// A CSV table as rows of column → value.
pub fn read_csv(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            headers
                .iter()
                .map(String::from)
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Rewrites a CSV table without its column `name`, keeping only its first `rows` data rows
/// (all of them with `None`): a table in the layout of an older version (runs.csv before
/// `seed_hex`), or one that lacks a column the tool reads back.
pub fn drop_column(path: &std::path::Path, name: &str, rows: Option<usize>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().expect("header").clone();
    let c = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{}: no column `{name}`", path.display()));
    let without = |rec: &csv::StringRecord| -> csv::StringRecord {
        rec.iter()
            .enumerate()
            .filter(|(i, _)| *i != c)
            .map(|(_, f)| f)
            .collect()
    };
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(&without(&header)).unwrap();
    for rec in r.records().take(rows.unwrap_or(usize::MAX)) {
        w.write_record(&without(&rec.expect("row"))).unwrap();
    }
    std::fs::write(path, w.into_inner().unwrap()).unwrap();
}

/// Waits until `out/runs.csv` has at least `rows` data rows (or the sweep ends, or 30 s pass),
/// then SIGKILLs the sweep, which gets no chance to clean up, and checks it had not finished.
pub fn kill_when_runs_reach(child: std::process::Child, out: &std::path::Path, rows: usize) {
    let data_rows = || {
        std::fs::read_to_string(out.join("runs.csv"))
            .map(|t| t.lines().count().saturating_sub(1))
            .unwrap_or(0)
    };
    kill_when(child, out, "the sweep", || data_rows() >= rows);
}

/// Waits until `reached()` holds (at most 30 s, or until the child exits), then SIGKILLs `child`
/// and checks that it was killed before it finished (no `manifest.json` in `out`); `what`
/// names the command in the message.
pub fn kill_when(mut child: std::process::Child, out: &std::path::Path, what: &str, reached: impl Fn() -> bool) {
    wait_until(&reached, || child.try_wait().expect("wait").is_some());
    child.kill().ok();
    child.wait().expect("wait");
    assert!(
        !out.join("manifest.json").exists(),
        "{what} must have been killed before it finished"
    );
}

/// Polls every millisecond until `reached()` or `gave_up()` holds, for at most 30 s.
pub fn wait_until(reached: &dyn Fn() -> bool, mut gave_up: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !reached() && std::time::Instant::now() < deadline && !gave_up() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
