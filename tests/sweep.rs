//! Sweeps end to end through the binary: run counts, thread independence, kill-and-resume,
//! failed runs, summary statistics against the trajectories, reproducing one run with
//! `aimarket run`, resume refusals, and sweep-file errors. Design properties (grid, random,
//! LHS strata) are unit tests in `src/sweep/design.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::common::*;

/// Writes a sweep file starting from the shipped baseline into `dir`.
fn sweep_file(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let base = repo("configs/baseline.toml");
    std::fs::write(&path, format!("base = '{}'\n{body}", base.display())).expect("write sweep file");
    path
}

/// A sweep of `points` grid points × `replicates` at a small population.
fn small_sweep(enterprises: u32, ticks: u32, replicates: u32) -> String {
    format!(
        "replicates = {replicates}\nseed = 11\n\
         set = {{ \"run.enterprises\" = {enterprises}, \"run.ticks\" = {ticks} }}\n\
         [[axes]]\nkey = \"enterprise.switch_cost_base\"\nrange = {{ min = 2.0, max = 6.0, levels = 4 }}\n\
         [[axes]]\nkey = \"providers.*.egress_fee\"\nvalues = [0.0, 0.06]\n"
    )
}

fn sweep_cmd(file: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(binary());
    c.arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(extra)
        .stdin(Stdio::null());
    c
}

fn sweep(file: &Path, out: &Path, extra: &[&str]) -> Output {
    sweep_cmd(file, out, extra).output().expect("aimarket runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parsed CSV: header and rows of fields.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = ::csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().expect("header").iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// The position of a column, by name (tables are read by column name, never by position).
fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column `{name}` in {header:?}"))
}

/// runs.csv without its wall-time column (the only column allowed to differ between sweeps).
fn runs_without_wall_time(dir: &Path) -> Vec<Vec<String>> {
    let (header, rows) = csv(&dir.join("runs.csv"));
    let wall = header
        .iter()
        .position(|h| h == "wall_seconds")
        .expect("wall_seconds column");
    rows.into_iter()
        .map(|mut r| {
            r.remove(wall);
            r
        })
        .collect()
}

/// Asserts two sweep outputs are identical apart from timing.
fn assert_same_outputs(a: &Path, b: &Path, trajectories: bool) {
    let mut files = vec!["points.csv", "summary.csv"];
    if trajectories {
        files.push("trajectories.csv");
    }
    for f in files {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    let (ra, rb) = (runs_without_wall_time(a), runs_without_wall_time(b));
    assert_eq!(ra.len(), rb.len(), "runs.csv row counts differ");
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(x, y, "runs.csv rows differ");
    }
    let manifest = |d: &Path| {
        let mut m: serde_json::Value = serde_json::from_str(&read(&d.join("manifest.json"))).expect("manifest is JSON");
        m.as_object_mut()
            .expect("object")
            .remove("timing")
            .expect("manifest has timing");
        m
    };
    assert_eq!(manifest(a), manifest(b));
}

fn data_rows(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

#[test]
fn smoke_sweep_has_one_run_per_point_and_replicate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = sweep(&repo("configs/sweeps/smoke.toml"), &out, &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let (ph, points) = csv(&out.join("points.csv"));
    assert_eq!(ph, ["point", "enterprise.switch_cost_base", "providers.*.egress_fee"]);
    assert_eq!(points.len(), 4);
    let (rh, runs) = csv(&out.join("runs.csv"));
    assert_eq!(runs.len(), 4 * 3, "runs = points × replicates");
    let names = aimarket::config::Metric::names();
    let fixed = [
        "run",
        "point",
        "replicate",
        "seed",
        "seed_hex",
        "status",
        "error",
        "wall_seconds",
    ];
    assert_eq!(rh[..fixed.len()], fixed);
    assert_eq!(rh.len(), fixed.len() + 2 * names.len());
    assert_eq!(rh[fixed.len()], format!("final_{}", names[0]));
    let c = |name: &str| col(&rh, name);
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r[c("run")], i.to_string());
        assert_eq!(
            (r[c("point")].as_str(), r[c("replicate")].as_str()),
            (&*(i / 3).to_string(), &*(i % 3).to_string())
        );
        assert_eq!(r[c("status")], "ok");
        let seed: u64 = r[c("seed")].parse().unwrap();
        assert_eq!(
            seed,
            aimarket::sim::rng::derive_seed(1, 0, (i % 3) as u64),
            "common random numbers: the recorded seed is replicate r's seed, the same at every point"
        );
        let hex = &r[c("seed_hex")];
        assert_eq!(hex, &format!("0x{seed:016x}"));
        assert_eq!(u64::from_str_radix(&hex[2..], 16).unwrap(), seed);
    }
    let seeds: std::collections::BTreeSet<&String> = runs.iter().map(|r| &r[c("seed")]).collect();
    assert_eq!(seeds.len(), 3, "one seed per replicate, shared by the points");
    // 24 ticks × every metric × 4 points.
    assert_eq!(data_rows(&out.join("summary.csv")), 4 * 24 * names.len());
    assert!(
        !out.join("trajectories.csv").exists(),
        "trajectories only with --trajectories"
    );
    let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    assert_eq!(m["counts"]["runs"], 12);
    assert_eq!(m["master_seed"], 1);
    assert_eq!(m["design"], "grid");
    assert_eq!(m["seeds"], "common");
    assert!(
        m["seed_rule"]
            .as_str()
            .unwrap()
            .contains("derive_seed(master_seed, 0, replicate)")
    );
    assert!(!out.join(".journal").exists(), "journals are cleaned up at the end");
}

#[test]
fn independent_seeds_differ_between_points_and_common_seeds_pair_them() {
    let dir = tempfile::tempdir().unwrap();
    let body = "replicates = 2\nseed = 5\nset = { \"run.enterprises\" = 500, \"run.ticks\" = 3 }\n\
                [[axes]]\nkey = \"enterprise.switch_cost_base\"\nvalues = [2.0, 2.0, 4.0]\n";
    let seeds_of = |name: &str, extra: &str| {
        let file = sweep_file(dir.path(), &format!("{name}.toml"), &format!("{extra}{body}"));
        let out = dir.path().join(name);
        let o = sweep(&file, &out, &["--quiet"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let (rh, runs) = csv(&out.join("runs.csv"));
        let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
        let seed = col(&rh, "seed");
        (
            runs.iter().map(|r| r[seed].parse::<u64>().unwrap()).collect::<Vec<_>>(),
            m,
            out,
        )
    };
    let (common, m, out) = seeds_of("common", "");
    assert_eq!(m["seeds"], "common");
    assert_eq!(common[0..2], common[2..4]);
    assert_eq!(common[0..2], common[4..6]);
    assert_ne!(common[0], common[1]);
    // Points 0 and 1 are the same parameters: with common seeds they are the same runs.
    let (rh, runs) = csv(&out.join("runs.csv"));
    let values = col(&rh, "wall_seconds") + 1;
    assert_eq!(
        runs[0][values..],
        runs[2][values..],
        "identical points with common seeds give identical results"
    );
    let (independent, m, _) = seeds_of("independent", "seeds = \"independent\"\n");
    assert_eq!(m["seeds"], "independent");
    for (i, s) in independent.iter().enumerate() {
        assert_eq!(*s, aimarket::sim::rng::derive_seed(5, (i / 2) as u64, (i % 2) as u64));
    }
    assert_ne!(independent[0..2], independent[2..4]);
    let file = sweep_file(dir.path(), "bad.toml", &format!("seeds = \"paired\"\n{body}"));
    let o = sweep(&file, &dir.path().join("bad"), &["--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("seeds is invalid") && stderr(&o).contains("`common` or `independent`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn thread_count_does_not_change_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "t.toml", &small_sweep(1500, 18, 3));
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    for (out, threads) in [(&one, "1"), (&two, "2")] {
        let o = sweep(&file, out, &["--quiet", "--trajectories", "--threads", threads]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_same_outputs(&one, &two, true);
}

/// Starts a sweep and SIGKILLs it once runs.csv has at least `rows` data rows.
fn kill_part_way(file: &Path, out: &Path, extra: &[&str], rows: usize) {
    let child = sweep_cmd(file, out, extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    crate::common::kill_when_runs_reach(child, out, rows);
}

#[test]
fn killed_and_resumed_sweep_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    // 8 points × 10 replicates = 80 runs; killed after the first few, twice.
    let file = sweep_file(dir.path(), "k.toml", &small_sweep(4000, 96, 10));
    let (killed, clean) = (dir.path().join("killed"), dir.path().join("clean"));
    let args = ["--quiet", "--trajectories", "--threads", "2"];
    kill_part_way(&file, &killed, &args, 3);
    let first = data_rows(&killed.join("runs.csv"));
    assert!(first < 80, "killed part way, got {first} rows");

    let mut resume_args = args.to_vec();
    resume_args.push("--resume");
    kill_part_way(&file, &killed, &resume_args, first + 8);
    // Simulate the states a kill can leave: half-written last lines in every table, complete
    // trajectory rows of a run whose runs.csv row was never written, summary rows of a point
    // whose runs are not all committed, and a journal file cut off before its rename.
    let committed = data_rows(&killed.join("runs.csv"));
    let unfinished_point = committed / 10;
    let metrics = aimarket::config::Metric::names().len();
    let appended = [
        ("runs.csv", "999,9".to_string()),
        (
            "trajectories.csv",
            format!("{committed},0,{}\n998,3,0.1", vec!["1"; metrics].join(",")),
        ),
        (
            "summary.csv",
            format!("{unfinished_point},0,hhi_cloud,2,1,1,1,1,1,1,1\n{unfinished_point},0,cr1"),
        ),
        (".journal/run-79.json.partial", "{\"run\": 79, \"se".to_string()),
    ];
    for (name, extra) in appended {
        let path = killed.join(name);
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&extra);
        std::fs::write(&path, text).unwrap();
    }

    let o = sweep(&file, &killed, &resume_args);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sweep(&file, &clean, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_outputs(&killed, &clean, true);
    assert_eq!(data_rows(&killed.join("runs.csv")), 80, "none duplicated, none missing");
}

#[test]
fn a_sweep_written_before_seed_hex_resumes_with_the_column_added_and_a_missing_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // 8 points × 2 replicates = 16 runs.
    let file = sweep_file(dir.path(), "o.toml", &small_sweep(500, 6, 2));
    let (old, clean) = (dir.path().join("old"), dir.path().join("clean"));
    let args = ["--quiet", "--trajectories"];
    for out in [&old, &clean] {
        let o = sweep(&file, out, &args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // What the previous version leaves when stopped after 3 whole points: a runs.csv without
    // seed_hex (and without the later runs), no manifest.
    std::fs::remove_file(old.join("manifest.json")).unwrap();
    drop_column(&old.join("runs.csv"), "seed_hex", Some(6));
    let resume = ["--quiet", "--trajectories", "--resume"];
    let o = sweep(&file, &old, &resume);
    assert!(o.status.success(), "{}", stderr(&o));
    let header = |d: &Path| read(&d.join("runs.csv")).lines().next().unwrap().to_string();
    assert_eq!(header(&old), header(&clean));
    assert_same_outputs(&old, &clean, true);

    // A runs.csv without a column resume reads is refused, naming the file and the column.
    std::fs::remove_file(old.join("manifest.json")).unwrap();
    drop_column(&old.join("runs.csv"), "status", Some(6));
    let o = sweep(&file, &old, &resume);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("runs.csv") && err.contains("no column `status`"), "{err}");
}

#[test]
fn ctrl_c_stops_cleanly_says_how_to_resume_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "c.toml", &small_sweep(4000, 96, 10));
    let out = dir.path().join("out");
    let child = sweep_cmd(&file, &out, &["--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while data_rows(&out.join("runs.csv")) < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let sent = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let o = child.wait_with_output().expect("wait");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted:") && err.contains("of 80 runs done"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(data_rows(&out.join("runs.csv")) < 80);
    let o = sweep(&file, &out, &["--quiet", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(data_rows(&out.join("runs.csv")), 80);
}

#[test]
fn a_failing_point_is_recorded_and_the_others_finish() {
    let dir = tempfile::tempdir().unwrap();
    let body = "replicates = 2\nseed = 5\nset = { \"run.enterprises\" = 1000, \"run.ticks\" = 12 }\n\
                [[axes]]\nkey = \"enterprise.review_probability\"\nvalues = [0.08, 1.5, 0.1]\n";
    let file = sweep_file(dir.path(), "f.toml", body);
    let out = dir.path().join("out");
    let o = sweep(&file, &out, &["--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 of 6 runs failed"), "{}", stderr(&o));
    let (h, runs) = csv(&out.join("runs.csv"));
    let (status, error) = (
        h.iter().position(|c| c == "status").unwrap(),
        h.iter().position(|c| c == "error").unwrap(),
    );
    let statuses: Vec<&str> = runs.iter().map(|r| r[status].as_str()).collect();
    assert_eq!(statuses, ["ok", "ok", "failed", "failed", "ok", "ok"]);
    for r in &runs[2..4] {
        assert!(
            r[error].contains("review_probability") && r[error].contains("1.5"),
            "{}",
            r[error]
        );
        let values = col(&h, "wall_seconds") + 1;
        assert!(
            r[values..].iter().all(String::is_empty),
            "a failed run has no metric values"
        );
    }
    // Points 0 and 2 are summarised; point 1 (no ok run) has no rows.
    let (_, summary) = csv(&out.join("summary.csv"));
    let points: std::collections::BTreeSet<&str> = summary.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(points.into_iter().collect::<Vec<_>>(), ["0", "2"]);
    let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    assert_eq!(m["counts"]["failed"], 2);
}

fn t975(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).unwrap().inverse_cdf(0.975)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, (h.floor() as usize + 1).min(sorted.len() - 1));
    sorted[lo] + (h - h.floor()) * (sorted[hi] - sorted[lo])
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

#[test]
fn summary_statistics_equal_a_direct_computation_from_the_trajectories() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "s.toml", &small_sweep(1500, 12, 4));
    let out = dir.path().join("out");
    let o = sweep(&file, &out, &["--quiet", "--trajectories"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let (th, traj) = csv(&out.join("trajectories.csv"));
    let (rh, runs) = csv(&out.join("runs.csv"));
    let point_of: Vec<usize> = runs.iter().map(|r| r[col(&rh, "point")].parse().unwrap()).collect();
    // values[(point, tick, metric)] in replicate order.
    let mut values: std::collections::BTreeMap<(usize, usize, String), Vec<f64>> = Default::default();
    for r in &traj {
        let (run, tick): (usize, usize) = (r[0].parse().unwrap(), r[1].parse().unwrap());
        for (j, name) in th.iter().enumerate().skip(3) {
            values
                .entry((point_of[run], tick, name.clone()))
                .or_default()
                .push(r[j].parse().unwrap());
        }
    }
    // runs.csv final_ and mean_ columns agree with the trajectories too.
    for (run, r) in runs.iter().enumerate() {
        let rows: Vec<&Vec<String>> = traj.iter().filter(|t| t[0] == run.to_string()).collect();
        assert_eq!(rows.len(), 12);
        let j = th.iter().position(|c| c == "hhi_model").unwrap();
        let fin = rh.iter().position(|c| c == "final_hhi_model").unwrap();
        let mean = rh.iter().position(|c| c == "mean_hhi_model").unwrap();
        assert_eq!(r[fin], rows[11][j]);
        let avg = rows.iter().map(|t| t[j].parse::<f64>().unwrap()).sum::<f64>() / 12.0;
        assert!(close(r[mean].parse().unwrap(), avg));
    }

    let (_, summary) = csv(&out.join("summary.csv"));
    assert_eq!(summary.len(), values.len());
    for s in &summary {
        // point, tick, date, metric, n, statistics…
        let key = (s[0].parse().unwrap(), s[1].parse().unwrap(), s[3].clone());
        let v = &values[&key];
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let half = t975(n - 1.0) * sd / n.sqrt();
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        let expected = [
            mean,
            sd,
            mean - half,
            mean + half,
            quantile(&sorted, 0.05),
            quantile(&sorted, 0.5),
            quantile(&sorted, 0.95),
        ];
        assert_eq!(s[4], "4", "n = ok replicates");
        for (i, e) in expected.iter().enumerate() {
            let got: f64 = s[5 + i].parse().unwrap();
            assert!(close(got, *e), "{key:?} column {i}: {got} vs {e}");
        }
    }
}

#[test]
fn one_run_of_a_sweep_is_reproduced_by_aimarket_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = sweep(&repo("configs/sweeps/smoke.toml"), &out, &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (ph, points) = csv(&out.join("points.csv"));
    let (rh, runs) = csv(&out.join("runs.csv"));
    let run = &runs[7]; // point 2, replicate 1
    let point = &points[run[col(&rh, "point")].parse::<usize>().unwrap()];
    let mut args: Vec<String> = [
        "run",
        "configs/baseline.toml",
        "--quiet",
        "--set",
        "run.enterprises=2000",
        "--set",
        "run.ticks=24",
    ]
    .map(String::from)
    .to_vec();
    for (key, value) in ph.iter().zip(point).skip(1) {
        args.extend(["--set".to_string(), format!("{key}={value}")]);
    }
    let single = dir.path().join("single");
    args.extend([
        "--seed".to_string(),
        run[col(&rh, "seed")].clone(),
        "--out".to_string(),
        single.display().to_string(),
    ]);
    let o = Command::new(binary())
        .args(&args)
        .current_dir(repo("."))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (mh, metrics) = csv(&single.join("metrics.csv"));
    let last = metrics.last().unwrap();
    for (j, name) in mh.iter().enumerate().skip(2) {
        let col = rh.iter().position(|c| *c == format!("final_{name}")).unwrap();
        assert_eq!(run[col], last[j], "final {name} of the sweep run vs aimarket run");
    }
}

#[test]
fn resume_refuses_a_changed_sweep_file_or_flags_and_an_existing_dir_needs_resume() {
    let dir = tempfile::tempdir().unwrap();
    let body = small_sweep(1000, 6, 2);
    let file = sweep_file(dir.path(), "r.toml", &body);
    let out = dir.path().join("out");
    assert!(sweep(&file, &out, &["--quiet"]).status.success());
    let runs_before = read(&out.join("runs.csv"));

    let o = sweep(&file, &out, &["--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("already holds a sweep") && stderr(&o).contains("--resume"),
        "{}",
        stderr(&o)
    );

    let o = sweep(&file, &out, &["--quiet", "--resume", "--trajectories"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--trajectories"), "{}", stderr(&o));

    sweep_file(dir.path(), "r.toml", &body.replace("seed = 11", "seed = 12"));
    let o = sweep(&file, &out, &["--quiet", "--resume"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the sweep file changed"), "{}", stderr(&o));
    assert_eq!(
        read(&out.join("runs.csv")),
        runs_before,
        "a refused resume writes nothing"
    );

    // Unchanged file: resuming a complete sweep is a no-op.
    sweep_file(dir.path(), "r.toml", &body);
    let o = sweep(&file, &out, &["--quiet", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read(&out.join("runs.csv")), runs_before);
}

#[test]
fn bad_sweep_files_name_file_key_and_value_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // (body, the value the message quotes, what else it says). Shape errors (types, unknown
    // keys) come from serde with the key's path; the rest are the sweep file's own checks.
    let cases: [(&str, &str, &[&str]); 9] = [
        (
            "[[axes]]\nkey = \"enterprise.swich_cost\"\nvalues = [1.0]\n",
            "enterprise.swich_cost",
            &["axes[0].key", "does not exist in the base config"],
        ),
        (
            "[[axes]]\nkey = \"providers.*.egres_fee\"\nvalues = [1.0]\n",
            "providers.*.egres_fee",
            &["axes[0].key", "no key `egres_fee`"],
        ),
        (
            "design = \"sobel\"\n",
            "sobel",
            &[
                "design is invalid",
                "expected \"grid\", \"random\", \"lhs\", \"morris\" or \"sobol\"",
            ],
        ),
        (
            "[[axes]]\nkey = \"enterprise.switch_cost_base\"\nrange = { min = 1.0, max = 2.0 }\n",
            "levels",
            &["axes[0].range.levels is missing"],
        ),
        (
            "[[axes]]\nkey = \"enterprise.switch_cost_base\"\nrange = { min = 1.0, max = 2.0, levels = 1 }\n",
            "got 1",
            &["axes[0].range.levels must be ≥ 2"],
        ),
        ("design = \"lhs\"\n", "lhs", &["points is missing"]),
        (
            "replicate = 3\n",
            "unknown field `replicate`",
            &["replicate is invalid", "expected one of `base`, `scenarios`"],
        ),
        (
            "[[axes]]\nkey = \"enterprise.switch_cost_base\"\nvalues = [1.0, 2.0]\n\
             [[axes]]\nkey = \"providers.*.egress_fee\"\nrange = { min = 0.0, max = 0.1, levels = \"5\" }\n",
            "string \"5\"",
            &["axes[1].range.levels is invalid", "expected a non-negative integer"],
        ),
        (
            "replicates = -2\n",
            "integer `-2`",
            &["replicates is invalid", "expected a non-negative integer"],
        ),
    ];
    for (i, (body, value, needles)) in cases.iter().enumerate() {
        let file = sweep_file(dir.path(), &format!("bad{i}.toml"), body);
        let out = dir.path().join(format!("out{i}"));
        let o = sweep(&file, &out, &["--quiet"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "case {i}: {err}");
        assert!(
            err.contains(&format!("bad{i}.toml: ")),
            "case {i} names the file: {err}"
        );
        assert!(err.contains(value), "case {i} quotes the value {value}: {err}");
        for n in *needles {
            assert!(err.contains(n), "case {i} should say {n:?}: {err}");
        }
        assert!(
            !out.exists(),
            "case {i}: nothing runs and no output directory is created"
        );
    }
}

#[test]
fn lhs_and_random_sweeps_resolve_to_reproducible_points() {
    let dir = tempfile::tempdir().unwrap();
    let body = |design: &str, seed: u64| {
        format!(
            "design = \"{design}\"\npoints = 10\nseed = {seed}\n\
             [[axes]]\nkey = \"enterprise.switch_cost_base\"\nrange = {{ min = 1.0, max = 6.0 }}\n\
             [[axes]]\nkey = \"providers.aws.build_lag_months\"\nrange = {{ min = 1, max = 20 }}\n"
        )
    };
    let plan = |design: &str, seed: u64| {
        let f = sweep_file(dir.path(), &format!("{design}{seed}.toml"), &body(design, seed));
        aimarket::sweep::spec::load(&f).expect("valid sweep file")
    };
    let lhs = plan("lhs", 3);
    assert_eq!(lhs.points.len(), 10);
    let mut strata: Vec<usize> = lhs
        .points
        .iter()
        .map(|p| ((p.values[0].as_float().unwrap() - 1.0) / 5.0 * 10.0) as usize)
        .collect();
    strata.sort_unstable();
    assert_eq!(strata, (0..10).collect::<Vec<_>>(), "one switching cost per stratum");
    assert!(
        lhs.points.iter().all(|p| p.values[1].is_integer()),
        "an integer key gets integer values"
    );
    assert_eq!(lhs.points, plan("lhs", 3).points, "same seed, same points");
    assert_ne!(lhs.points, plan("lhs", 4).points);
    let random = plan("random", 3);
    assert_eq!(random.points, plan("random", 3).points);
    assert!(
        random
            .points
            .iter()
            .all(|p| (1.0..=6.0).contains(&p.values[0].as_float().unwrap()))
    );
}

#[test]
fn a_scenarios_axis_adds_a_column_and_starts_points_from_each_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let base = repo("configs/baseline.toml");
    std::fs::write(
        dir.path().join("cheap.toml"),
        format!("extends = '{}'\n[enterprise]\nswitch_cost_base = 0.5\n", base.display()),
    )
    .unwrap();
    let body = "scenarios = ['cheap.toml', 'base-copy.toml']\nreplicates = 2\nseed = 4\n\
                set = { \"run.enterprises\" = 1000, \"run.ticks\" = 12 }\n\
                [[axes]]\nkey = \"providers.*.egress_fee\"\nvalues = [0.0, 0.1]\n";
    std::fs::copy(&base, dir.path().join("base-copy.toml")).unwrap();
    let file = sweep_file(dir.path(), "sc.toml", body);
    let out = dir.path().join("out");
    let o = sweep(&file, &out, &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (ph, points) = csv(&out.join("points.csv"));
    assert_eq!(ph, ["point", "scenario", "providers.*.egress_fee"]);
    let labels: Vec<(&str, &str)> = points.iter().map(|p| (p[1].as_str(), p[2].as_str())).collect();
    assert_eq!(
        labels,
        [
            ("cheap", "0"),
            ("cheap", "0.1"),
            ("base-copy", "0"),
            ("base-copy", "0.1")
        ]
    );
    // Lower switching costs mean more switching: the scenario really is the starting point.
    let (rh, runs) = csv(&out.join("runs.csv"));
    let (switching, point) = (col(&rh, "mean_switching_rate"), col(&rh, "point"));
    let mean = |pts: &[&str]| {
        let v: Vec<f64> = runs
            .iter()
            .filter(|r| pts.contains(&r[point].as_str()))
            .map(|r| r[switching].parse().unwrap())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(
        mean(&["0", "1"]) > mean(&["2", "3"]),
        "cheap switching {} vs base {}",
        mean(&["0", "1"]),
        mean(&["2", "3"])
    );
    let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    assert_eq!(m["scenarios"].as_array().map(Vec::len), Some(2));
}
