//! The command line: `aimarket run` writes the four documented files with the README's columns,
//! stays silent with `--quiet`, never draws a progress bar without a terminal, documents every
//! flag in `--help`; `validate` accepts the baseline and rejects a bad file; a run that fails
//! mid-way exits 1 and leaves no finished-looking file while keeping older results.

use std::collections::BTreeSet;
use std::path::Path;

use aimarket::config::{Market, Metric};

use crate::common::*;

const RUN_FILES: [&str; 4] = ["metrics.csv", "shares.csv", "agents.csv", "manifest.json"];

fn header(dir: &Path, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.lines()
        .next()
        .expect("a header line")
        .split(',')
        .map(str::to_string)
        .collect()
}

/// Column names documented in the README's "Outputs of `aimarket run`" section, with `<m>`
/// expanded to every market.
fn readme_columns() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(repo("README.md")).expect("README.md");
    let start = readme
        .find("## Outputs of `aimarket run`")
        .expect("README documents the run outputs");
    let section = &readme[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut names = BTreeSet::new();
    for line in section[..end].lines().filter(|l| l.starts_with("| `")) {
        let first_cell = line.split('|').nth(1).unwrap_or_default();
        for name in first_cell.split('`').skip(1).step_by(2) {
            if name.contains("<m>") {
                names.extend(Market::all().map(|m| name.replace("<m>", m.name())));
            } else {
                names.insert(name.to_string());
            }
        }
    }
    names
}

#[test]
fn run_writes_the_four_files_with_the_documented_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("outputs");
    let o = aimarket(
        &[
            "run",
            "configs/baseline.toml",
            "--enterprises",
            "5000",
            "--ticks",
            "12",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(dir_entries(&out), {
        let mut v: Vec<String> = RUN_FILES.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    });

    let mut metrics = vec!["tick".to_string(), "date".to_string()];
    metrics.extend(Metric::names());
    assert_eq!(header(&out, "metrics.csv"), metrics);
    assert_eq!(
        header(&out, "shares.csv"),
        [
            "tick",
            "date",
            "market",
            "agent",
            "share",
            "amount",
            "quantity",
            "quantity_share",
            "new_share",
            "owner",
            "fringe"
        ]
    );
    assert_eq!(
        header(&out, "agents.csv"),
        [
            "tick",
            "date",
            "kind",
            "agent",
            "price",
            "capacity_kgpu",
            "utilisation",
            "revenue_musd",
            "rent_share",
            "quality",
            "dependency",
            "compute_kgpu",
            "unit_cost",
            "profit_musd",
            "lerner",
            "cloud_price_index",
            "cloud_lerner",
            "marketplace_margin"
        ]
    );
    // Every documented column exists, and every written column is documented.
    let documented = readme_columns();
    let written: BTreeSet<String> = ["metrics.csv", "shares.csv", "agents.csv"]
        .iter()
        .flat_map(|f| header(&out, f))
        .collect();
    assert_eq!(documented, written, "README columns vs written columns");

    // One metrics row per tick, dated from run.start.
    let text = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 12);
    assert!(
        rows[0].starts_with("0,2026-01,") && rows[11].starts_with("11,2026-12,"),
        "{} / {}",
        rows[0],
        rows[11]
    );

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["ticks"], 12);
    assert_eq!(manifest["agents"]["enterprises"], 5000);
    assert_eq!(
        manifest["config"]["run"]["enterprises"], 5000,
        "the manifest holds the resolved config"
    );
    let files: BTreeSet<&str> = manifest["files"]
        .as_array()
        .expect("files list")
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in ["metrics.csv", "shares.csv", "agents.csv"] {
        assert!(files.iter().any(|x| x.ends_with(f)), "manifest lists {f}: {files:?}");
    }
    assert_eq!(
        manifest["config_hash"].as_str().map(str::len),
        Some(64),
        "a SHA-256 config hash"
    );
}

#[test]
fn quiet_run_prints_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let o = aimarket(
        &[
            "run",
            "configs/baseline.toml",
            "--enterprises",
            "2000",
            "--ticks",
            "6",
            "--quiet",
            "--out",
            tmp.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success());
    assert!(o.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&o.stdout));
    assert!(o.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    assert!(tmp.path().join("manifest.json").exists());
}

#[test]
fn without_a_terminal_no_progress_bar_is_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let o = aimarket(
        &[
            "run",
            "configs/baseline.toml",
            "--enterprises",
            "2000",
            "--ticks",
            "24",
            "--out",
            tmp.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "progress drawing in piped stderr: {stderr:?}"
    );
    // Only the one-line summary, which names the files it wrote.
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("24 months") && stderr.contains("2000 enterprises") && stderr.contains("metrics.csv"),
        "{stderr}"
    );
}

#[test]
fn run_help_documents_every_flag() {
    let o = aimarket(&["run", "--help"], &[]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "<CONFIG>",
        "--seed",
        "--ticks",
        "--enterprises",
        "--out",
        "--set",
        "--quiet",
        "--help",
    ] {
        let line = help
            .lines()
            .find(|l| {
                l.starts_with("  ")
                    && l.split([' ', ','])
                        .any(|w| w == flag || w.starts_with(&format!("{flag}=")))
            })
            .unwrap_or_else(|| panic!("--help lacks {flag}:\n{help}"));
        let description = line.split_once(flag).map(|(_, rest)| rest.trim()).unwrap_or_default();
        assert!(
            description.split_whitespace().count() >= 2,
            "{flag} has no description: {line:?}"
        );
    }
}

#[test]
fn validate_accepts_the_baseline_and_rejects_a_bad_file() {
    let o = aimarket(&["validate", "configs/baseline.toml"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("configs/baseline.toml: ok"), "{stdout}");

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    let text = std::fs::read_to_string(repo("configs/baseline.toml")).unwrap();
    std::fs::write(&bad, text.replacen("seed = 20260101", "seed = -1", 1)).unwrap();
    let o = aimarket(&["validate", bad.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("run.seed") && stderr.contains("-1"),
        "{stderr}"
    );
    assert!(o.stdout.is_empty());

    let o = aimarket(
        &[
            "validate",
            "configs/baseline.toml",
            "--set",
            "enterprise.review_probability=1.5",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "validate checks overrides too");
}

#[test]
fn a_run_that_fails_midway_exits_1_and_leaves_no_finished_looking_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    std::fs::write(out.join("metrics.csv"), "older results\n").unwrap();
    // Validation now refuses every config that could overflow (cloud growth of 1e300 used to
    // fail here); a failure while writing tick 5 (the test hook of a full disk) stands in.
    let o = aimarket(
        &[
            "run",
            "configs/baseline.toml",
            "--enterprises",
            "2000",
            "--force",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("AIMARKET_FAIL_AT_TICK", "5")],
    );
    assert_eq!(o.status.code(), Some(1), "a failed run exits 1");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("injected failure at tick 5") && stderr.contains("no output files were written"),
        "{stderr}"
    );
    assert_eq!(
        dir_entries(out),
        vec!["metrics.csv".to_string()],
        "only the older file remains (no staged or new files)"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("metrics.csv")).unwrap(),
        "older results\n",
        "older results are kept"
    );
}

#[test]
fn a_successful_run_replaces_older_results_and_leaves_no_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    std::fs::write(out.join("metrics.csv"), "older results\n").unwrap();
    let o = aimarket(
        &[
            "run",
            "configs/baseline.toml",
            "--enterprises",
            "2000",
            "--ticks",
            "3",
            "--quiet",
            "--force",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success());
    let mut expected: Vec<String> = RUN_FILES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(dir_entries(out), expected);
    assert!(
        std::fs::read_to_string(out.join("metrics.csv"))
            .unwrap()
            .starts_with("tick,date,")
    );
}

#[cfg(target_os = "linux")]
#[test]
fn output_files_get_ordinary_permissions_under_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let status = std::fs::read_to_string("/proc/self/status").expect("proc status");
    let umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).expect("octal umask"))
        .expect("Umask line");
    let tmp = tempfile::tempdir().unwrap();
    let o = aimarket(
        &[
            "run",
            "configs/baseline.toml",
            "--enterprises",
            "1000",
            "--ticks",
            "2",
            "--quiet",
            "--out",
            tmp.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success());
    for f in RUN_FILES {
        let mode = std::fs::metadata(tmp.path().join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode,
            0o666 & !umask,
            "{f} has mode {mode:o} (umask {umask:o}); results should be as readable as any file the user creates"
        );
    }
}
