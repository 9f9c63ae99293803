//! Nothing lost, nothing mixed: output-directory locks (a second sweep, a resume while the
//! first runs, a lock left by a killed process), run results committed whole (an injected
//! failure in the rename window), impossible inputs refused before anything runs (sizes, month
//! counts, prices, `--out` a file, a FIFO as config), a sweep with an impossible point, and the
//! shares of an empty market.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const RUN_FILES: [&str; 4] = ["agents.csv", "manifest.json", "metrics.csv", "shares.csv"];

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sweep_file(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("s.toml");
    let base = repo("configs/baseline.toml");
    std::fs::write(&path, format!("base = '{}'\n{body}", base.display())).unwrap();
    path
}

/// 300 runs of 20,000 enterprises × 60 months: several seconds on one thread.
fn long_sweep(dir: &Path) -> PathBuf {
    sweep_file(
        dir,
        "replicates = 300\nseed = 3\nset = { \"run.enterprises\" = 20000, \"run.ticks\" = 60 }\n\
         [[axes]]\nkey = \"enterprise.switch_cost_base\"\nvalues = [4.0]\n",
    )
}

fn sweep_cmd(file: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(binary());
    c.arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .stdin(Stdio::null());
    c
}

/// Starts a sweep and waits until it holds the lock (its PID is in the lock file).
fn start_holder(file: &Path, out: &Path) -> Child {
    let mut child = sweep_cmd(file, out, &["--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let lock = out.join(".aimarket.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pid = std::fs::read_to_string(&lock).unwrap_or_default();
        if pid.trim() == child.id().to_string() {
            return child;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it was checked"
        );
        assert!(Instant::now() < deadline, "the sweep never took its lock");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn data_rows(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().skip(1).filter(|l| !l.is_empty()).count())
        .unwrap_or(0)
}

#[test]
fn a_second_sweep_and_a_resume_are_refused_while_a_sweep_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = long_sweep(dir.path());
    let out = dir.path().join("out");
    let mut holder = start_holder(&file, &out);
    let pid = holder.id();
    for extra in [&[][..], &["--resume"][..]] {
        let o = sweep_cmd(&file, &out, extra).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(&out.display().to_string()) && err.contains(&format!("PID {pid}")),
            "{extra:?}: the message names the directory and the holder: {err}"
        );
    }
    assert!(holder.try_wait().unwrap().is_none(), "the first sweep is still running");
    holder.kill().ok();
    holder.wait().unwrap();
}

#[test]
fn a_lock_left_by_a_killed_sweep_does_not_block_resume() {
    let dir = tempfile::tempdir().unwrap();
    let file = long_sweep(dir.path());
    let out = dir.path().join("out");
    let mut holder = start_holder(&file, &out);
    holder.kill().expect("SIGKILL"); // no chance to release anything itself
    holder.wait().unwrap();
    assert!(out.join(".aimarket.lock").exists(), "the lock file stays behind");
    let o = sweep_cmd(&file, &out, &["--resume"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(data_rows(&out.join("runs.csv")), 300);
    assert!(out.join("manifest.json").exists());
}

fn run(out: &Path, ticks: &str, env: &[(&str, &str)]) -> Output {
    aimarket(
        &[
            "run",
            "configs/baseline.toml",
            "--enterprises",
            "1000",
            "--ticks",
            ticks,
            "--quiet",
            // These runs replace each other's results on purpose.
            "--force",
            "--out",
            out.to_str().unwrap(),
        ],
        env,
    )
}

/// Whether the directory looks like a complete set: a manifest and no INCOMPLETE note.
fn looks_complete(out: &Path) -> bool {
    out.join("manifest.json").exists() && !out.join("INCOMPLETE").exists()
}

fn ticks_of(out: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(out.join(file)).unwrap();
    let last = text.lines().last().unwrap().to_string();
    last.split(',').next().unwrap().to_string()
}

#[test]
fn a_failure_in_the_rename_window_leaves_a_set_marked_incomplete_never_a_mix() {
    for renames in 0..4u32 {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        let o = run(out, "3", &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        // A new set of 5 months whose commit fails after `renames` renames.
        let n = renames.to_string();
        let o = run(out, "5", &[("AIMARKET_FAIL_AFTER_RENAMES", &n)]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("INCOMPLETE"), "{}", stderr(&o));
        assert!(
            !looks_complete(out),
            "after {renames} renames the set must not look complete"
        );
        let mut expected: Vec<String> = ["INCOMPLETE", "agents.csv", "metrics.csv", "shares.csv"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        expected.sort();
        assert_eq!(dir_entries(out), expected, "no staging or partial files are left");
        let new_tables = ["metrics.csv", "shares.csv", "agents.csv"]
            .iter()
            .filter(|f| ticks_of(out, f) == "4")
            .count();
        assert_eq!(new_tables, renames.min(3) as usize);

        // The next run cleans up and commits a complete set (also removing staging that a
        // killed run left behind).
        std::fs::create_dir(out.join(".aimarket-staging.dead")).unwrap();
        std::fs::write(out.join(".aimarket-staging.dead/metrics.csv"), "x").unwrap();
        let o = run(out, "2", &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(looks_complete(out));
        assert_eq!(dir_entries(out), RUN_FILES.map(String::from).to_vec());
        assert!(
            RUN_FILES[..]
                .iter()
                .filter(|f| f.ends_with(".csv"))
                .all(|f| ticks_of(out, f) == "1")
        );
    }
}

#[test]
fn a_failed_run_keeps_the_complete_previous_set() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    assert!(run(out, "3", &[]).status.success());
    let before: Vec<String> = RUN_FILES
        .iter()
        .map(|f| std::fs::read_to_string(out.join(f)).unwrap())
        .collect();
    let o = run(out, "6", &[("AIMARKET_FAIL_AT_TICK", "4")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(looks_complete(out));
    assert_eq!(dir_entries(out), RUN_FILES.map(String::from).to_vec());
    let after: Vec<String> = RUN_FILES
        .iter()
        .map(|f| std::fs::read_to_string(out.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
}

/// Runs the binary and asserts it exits 2 within a second, printing one error naming `words`.
fn refused_fast(args: &[&str], env: &[(&str, &str)], words: &[&str]) -> String {
    let started = Instant::now();
    let o = aimarket(args, env);
    let elapsed = started.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(elapsed < Duration::from_secs(1), "{args:?} took {elapsed:?}");
    for w in words {
        assert!(err.contains(w), "{args:?}: message lacks {w:?}: {err}");
    }
    assert_eq!(err.lines().count(), 1, "one error line, nothing ran: {err}");
    err
}

#[test]
fn impossible_sizes_month_counts_and_prices_are_refused_in_under_a_second() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    let base = ["run", "configs/baseline.toml", "--out", out];
    let with = |extra: &[&'static str]| -> Vec<&str> { base.iter().copied().chain(extra.iter().copied()).collect() };
    refused_fast(
        &with(&["--enterprises", "1000000000"]),
        &[],
        &["run.enterprises", "50000000"],
    );
    for (set, key) in [
        (
            "enterprise.lock_in_cap_months=4000000000",
            "enterprise.lock_in_cap_months",
        ),
        (
            "providers.aws.build_lag_months=4000000000",
            "providers.aws.build_lag_months",
        ),
        ("providers.aws.price=1e308", "providers.aws.price"),
        ("demand.ai_growth_per_year=1e308", "demand.ai_growth_per_year"),
        (
            "labs.openai.training_budget_musd=1e308",
            "labs.openai.training_budget_musd",
        ),
        ("providers.aws.capacity_kgpu=1e308", "providers.aws.capacity_kgpu"),
    ] {
        refused_fast(&with(&["--set", set]), &[], &[key]);
    }
    refused_fast(&with(&["--ticks", "20000"]), &[], &["run.ticks"]);
    // Within the bounds but beyond the machine's memory (the test hook pretends 50 MB).
    let small = [("AIMARKET_MEMORY_AVAILABLE", "50000000")];
    let err = refused_fast(
        &with(&["--enterprises", "1000000"]),
        &small,
        &["--enterprises", "--force-size", "GB"],
    );
    assert!(err.contains("0.1 GB"), "the estimate is named: {err}");
    let o = aimarket(
        &with(&["--enterprises", "1000000", "--ticks", "1", "--force-size", "--quiet"]),
        &small,
    );
    assert!(o.status.success(), "--force-size overrides: {}", stderr(&o));
    refused_fast(
        &[
            "compare",
            "configs/baseline.toml",
            "configs/scenarios/eu_data_act.toml",
            "--enterprises",
            "1000000",
            "--out",
            out,
        ],
        &small,
        &["--force-size"],
    );
}

#[test]
fn a_sweep_with_one_impossible_point_finishes_with_that_run_failed() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "seed = 1\nset = { \"run.ticks\" = 6 }\n\
         [[axes]]\nkey = \"run.enterprises\"\nvalues = [500, 1000000000, 700]\n",
    );
    let out = dir.path().join("out");
    let started = Instant::now();
    let o = sweep_cmd(&file, &out, &[]).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 of 3 runs failed"), "{}", stderr(&o));
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let rows: Vec<&str> = runs.lines().skip(1).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].contains(",ok,") && rows[2].contains(",ok,"), "{runs}");
    assert!(
        rows[1].contains(",failed,") && rows[1].contains("run.enterprises"),
        "{}",
        rows[1]
    );
    assert!(out.join("manifest.json").exists(), "the sweep is complete");
}

#[test]
fn out_that_is_a_file_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("results");
    std::fs::write(&file, "keep me").unwrap();
    let f = file.to_str().unwrap();
    let sweep = sweep_file(tmp.path(), "seed = 1\n[[axes]]\nkey = \"run.ticks\"\nvalues = [3]\n");
    for args in [
        vec!["run", "configs/baseline.toml", "--out", f],
        vec!["sweep", sweep.to_str().unwrap(), "--out", f],
        vec![
            "compare",
            "configs/baseline.toml",
            "configs/scenarios/eu_data_act.toml",
            "--out",
            f,
        ],
    ] {
        refused_fast(&args, &[], &["--out must be a directory", f]);
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[cfg(unix)]
#[test]
fn a_fifo_as_config_or_sweep_file_is_refused_promptly() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("config.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let f = fifo.to_str().unwrap();
    let out = tmp.path().join("out");
    for args in [
        vec!["run", f, "--out", out.to_str().unwrap()],
        vec!["validate", f],
        vec!["sweep", f, "--out", out.to_str().unwrap()],
        vec!["compare", "configs/baseline.toml", f, "--out", out.to_str().unwrap()],
    ] {
        // Spawned with a deadline: a blocked read would otherwise hang the test.
        let mut child = Command::new(binary())
            .args(&args)
            .current_dir(repo("."))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().ok();
                panic!("{args:?} blocked on the FIFO");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("not a regular file"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn shares_of_an_empty_market_are_blank_and_other_markets_sum_to_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    let o = aimarket(
        &[
            "run",
            "configs/baseline.toml",
            "--enterprises",
            "1000",
            "--ticks",
            "3",
            "--quiet",
            "--set",
            "demand.ai_inference_kgpu=0",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut r = ::csv::Reader::from_path(out.join("shares.csv")).unwrap();
    let mut sums: std::collections::BTreeMap<(String, String), (f64, usize, usize)> = Default::default();
    for row in r.records() {
        let row = row.unwrap();
        let e = sums.entry((row[0].to_string(), row[2].to_string())).or_default();
        e.1 += 1;
        if row[4].is_empty() {
            e.2 += 1;
        } else {
            e.0 += row[4].parse::<f64>().unwrap();
        }
    }
    for ((tick, market), (sum, rows, blank)) in sums {
        if market == "ai_channel" || market == "model" || market == "model_hoster" {
            assert_eq!(blank, rows, "tick {tick}: {market} is empty, its shares are blank");
        } else {
            assert_eq!(blank, 0, "tick {tick}: {market}");
            assert!((sum - 1.0).abs() < 1e-9, "tick {tick}: {market} sums to {sum}");
        }
    }
}
