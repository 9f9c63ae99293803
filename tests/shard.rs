//! Sharded sweeps and their merge through the binary: shards merged in any order give the
//! single-machine sweep's files byte for byte (apart from timing), also with more shards than
//! points, after a shard was killed and resumed, and with failed runs; a complete shard exits
//! at once; bad `--shard` values and merges of shards that do not make one sweep are refused
//! with exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::*;

/// Writes a sweep file of 4 × 2 = 8 grid points starting from the shipped baseline.
fn sweep_file(dir: &Path, name: &str, enterprises: u32, ticks: u32, replicates: u32, seed: u64) -> PathBuf {
    let path = dir.join(name);
    let base = repo("configs/baseline.toml");
    let body = format!(
        "base = '{}'\nreplicates = {replicates}\nseed = {seed}\n\
         set = {{ \"run.enterprises\" = {enterprises}, \"run.ticks\" = {ticks} }}\n\
         [[axes]]\nkey = \"enterprise.switch_cost_base\"\nrange = {{ min = 2.0, max = 6.0, levels = 4 }}\n\
         [[axes]]\nkey = \"providers.*.egress_fee\"\nvalues = [0.0, 0.06]\n",
        base.display()
    );
    std::fs::write(&path, body).expect("write sweep file");
    path
}

fn cmd(args: &[&str], extra: &[&Path]) -> Command {
    let mut c = Command::new(binary());
    c.args(args)
        .args(extra)
        .stdin(Stdio::null())
        .env_remove("SLURM_ARRAY_TASK_ID");
    c
}

/// `aimarket sweep FILE --out OUT ARGS…`.
fn sweep(file: &Path, out: &Path, args: &[&str]) -> Output {
    cmd(&["sweep"], &[file])
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("aimarket runs")
}

/// `aimarket merge OUT SHARDS…`.
fn merge(out: &Path, shards: &[PathBuf]) -> Output {
    let mut c = cmd(&["merge", "--quiet"], &[out]);
    c.args(shards);
    c.output().expect("aimarket runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The manifest's text without its `timing` member (a flat object, the only part that may
/// differ between identical sweeps).
fn manifest_without_timing(dir: &Path) -> String {
    let text = String::from_utf8(read(&dir.join("manifest.json"))).expect("UTF-8");
    let start = text.find(",\n  \"timing\": {").expect("manifest has timing");
    let end = start + text[start..].find('}').expect("timing ends") + 1;
    format!("{}{}", &text[..start], &text[end..])
}

/// runs.csv, line by line (header included), with the wall_seconds field cut out (the line's
/// fields as parsed; the column found by name).
fn runs_without_wall_time(dir: &Path) -> Vec<Vec<String>> {
    let text = String::from_utf8(read(&dir.join("runs.csv"))).expect("UTF-8");
    assert!(text.ends_with('\n'), "runs.csv ends with a newline");
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.expect("a CSV line").iter().map(String::from).collect())
        .collect();
    let wall = rows[0]
        .iter()
        .position(|h| h == "wall_seconds")
        .expect("a wall_seconds column");
    for fields in &mut rows {
        fields.remove(wall);
    }
    assert_eq!(rows.len(), text.lines().count(), "one record per line");
    rows
}

#[test]
fn shards_written_before_seed_hex_merge_with_the_column_added_and_a_missing_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "o.toml", 300, 6, 2, 5);
    let local = dir.path().join("local");
    let o = sweep(&file, &local, &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dirs = run_shards(&file, &dir.path().join("shards"), 2, &[]);
    // Shard 1 as the previous version wrote it: runs.csv without seed_hex.
    drop_column(&dirs[1].join("runs.csv"), "seed_hex", None);
    let merged = dir.path().join("merged");
    let o = merge(&merged, &dirs);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_sweep(&local, &merged, false);

    // A shard's runs.csv without a column the merge reads is refused, naming it and the column.
    drop_column(&dirs[0].join("runs.csv"), "status", None);
    let o = merge(&dir.path().join("merged-2"), &dirs);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(&dirs[0].join("runs.csv").display().to_string()) && err.contains("no column `status`"),
        "{err}"
    );
}

/// Asserts `merged` holds exactly the files of the single-machine sweep `local`, byte for byte
/// apart from timing (wall_seconds in runs.csv, the manifest's `timing`).
pub fn assert_same_sweep(local: &Path, merged: &Path, trajectories: bool) {
    let mut files = vec!["points.csv", "summary.csv", ".sweep-state.json"];
    if trajectories {
        files.push("trajectories.csv");
    }
    for f in files {
        assert!(
            read(&local.join(f)) == read(&merged.join(f)),
            "{f} differs between {} and {}",
            local.display(),
            merged.display()
        );
    }
    assert_eq!(
        runs_without_wall_time(local),
        runs_without_wall_time(merged),
        "runs.csv"
    );
    assert_eq!(
        manifest_without_timing(local),
        manifest_without_timing(merged),
        "manifest.json"
    );
    // The sweep's lock file is left in place by design (src/output/lock.rs); merge takes no lock.
    let files = |d: &Path| {
        let mut v = dir_entries(d);
        v.retain(|f| f != aimarket::output::lock::LOCK_FILE);
        v
    };
    assert_eq!(files(local), files(merged), "the same files");
}

fn shard_dirs(root: &Path, n: u64) -> Vec<PathBuf> {
    (0..n).map(|i| root.join(format!("shard-{i}"))).collect()
}

/// Runs every shard of `n` into `root/shard-I`, alternating 1 and 2 threads.
fn run_shards(file: &Path, root: &Path, n: u64, extra: &[&str]) -> Vec<PathBuf> {
    let dirs = shard_dirs(root, n);
    for (i, dir) in dirs.iter().enumerate() {
        let shard = format!("{i}/{n}");
        let threads = if i % 2 == 0 { "1" } else { "2" };
        let mut args = vec!["--quiet", "--shard", &shard, "--threads", threads];
        args.extend(extra);
        let o = sweep(file, dir, &args);
        assert!(o.status.success(), "shard {shard}: {}", stderr(&o));
    }
    dirs
}

#[test]
fn shards_merged_in_any_order_are_the_single_machine_sweep_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "s.toml", 300, 12, 3, 5);
    let local = dir.path().join("local");
    let o = sweep(&file, &local, &["--quiet", "--trajectories"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // 3 shards of 8 points (2, 3 and 3 points), and 11 (three of them empty).
    for n in [3u64, 11] {
        let root = dir.path().join(format!("n{n}"));
        let mut dirs = run_shards(&file, &root, n, &["--trajectories"]);
        dirs.reverse();
        let merged = root.join("merged");
        let o = merge(&merged, &dirs);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_same_sweep(&local, &merged, true);
        // A merge can be run again into its own output.
        let o = merge(&merged, &dirs);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_same_sweep(&local, &merged, true);
    }

    // Each shard records which shard it is and which points and runs it holds.
    let shard = dir.path().join("n3/shard-1");
    let m: serde_json::Value = serde_json::from_slice(&read(&shard.join("manifest.json"))).unwrap();
    assert_eq!(
        m["shard"],
        serde_json::json!({"count": 3, "index": 1, "points": {"end": 5, "start": 2}, "runs": {"end": 15, "start": 6}})
    );
    assert_eq!(
        (m["counts"]["runs"].as_u64(), m["counts"]["points"].as_u64()),
        (Some(9), Some(3))
    );
    let state: serde_json::Value = serde_json::from_slice(&read(&shard.join(".sweep-state.json"))).unwrap();
    assert_eq!(state["shard"], m["shard"]);

    // Resubmitting a complete shard changes nothing and exits 0 at once.
    let before = read(&shard.join("runs.csv"));
    let entries = dir_entries(&shard);
    let o = sweep(&file, &shard, &["--shard", "1/3", "--trajectories"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("already holds this shard complete"),
        "{}",
        stderr(&o)
    );
    assert!(read(&shard.join("runs.csv")) == before, "runs.csv unchanged");
    assert_eq!(dir_entries(&shard), entries);

    // --shard slurm reads the array variables Slurm sets.
    let slurm = dir.path().join("slurm-1");
    let o = cmd(&["sweep"], &[&file])
        .arg("--out")
        .arg(&slurm)
        .args(["--quiet", "--trajectories", "--shard", "slurm"])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(runs_without_wall_time(&slurm), runs_without_wall_time(&shard));
}

/// Starts a sweep and SIGKILLs it once runs.csv has at least `rows` data rows.
fn kill_part_way(file: &Path, out: &Path, args: &[&str], rows: usize) {
    let child = cmd(&["sweep"], &[file])
        .arg("--out")
        .arg(out)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    crate::common::kill_when_runs_reach(child, out, rows);
}

#[test]
fn a_killed_shard_resumes_and_the_merge_equals_the_uninterrupted_sweep() {
    let dir = tempfile::tempdir().unwrap();
    // 8 points × 10 replicates = 80 runs; shard 1/2 holds runs 40..80 and is killed part way.
    let file = sweep_file(dir.path(), "k.toml", 4000, 96, 10, 11);
    let dirs = shard_dirs(dir.path(), 2);
    let args = ["--quiet", "--trajectories", "--threads", "2", "--shard", "1/2"];
    kill_part_way(&file, &dirs[1], &args, 3);
    // Killed again after a few more runs, then the states a kill can leave are simulated, as
    // for an unsharded sweep in tests/sweep.rs but at run ids that start at 40: half-written
    // last lines, trajectory rows of an uncommitted run, summary rows of an unfinished point
    // and a journal cut off before its rename.
    let rows = std::fs::read_to_string(dirs[1].join("runs.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(rows < 40, "killed part way, got {rows} rows");
    kill_part_way(&file, &dirs[1], &args, rows + 5);
    let committed = 40
        + std::fs::read_to_string(dirs[1].join("runs.csv"))
            .unwrap()
            .lines()
            .count()
        - 1;
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
        let path = dirs[1].join(name);
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&extra);
        std::fs::write(&path, text).unwrap();
    }
    let o = sweep(&file, &dirs[0], &["--quiet", "--trajectories", "--shard", "0/2"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // The merge refuses the unfinished shard and writes nothing.
    let merged = dir.path().join("merged");
    let o = merge(&merged, &dirs);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("shard 1/2 in") && err.contains("is incomplete") && err.contains("--shard 1/2"),
        "{err}"
    );
    assert!(!merged.exists());

    // The shard resumes its directory by itself (resubmitting the same command).
    let o = sweep(&file, &dirs[1], &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = merge(&merged, &dirs);
    assert!(o.status.success(), "{}", stderr(&o));
    let clean = dir.path().join("clean");
    let o = sweep(&file, &clean, &["--quiet", "--trajectories", "--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_sweep(&clean, &merged, true);
}

#[test]
fn failed_runs_of_a_shard_are_merged_as_the_single_machine_sweep_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let base = repo("configs/baseline.toml");
    let file = dir.path().join("f.toml");
    std::fs::write(
        &file,
        format!(
            "base = '{}'\nreplicates = 2\nset = {{ \"run.enterprises\" = 300, \"run.ticks\" = 6 }}\n\
             [[axes]]\nkey = \"enterprise.review_probability\"\nvalues = [0.1, 1.5, 0.2]\n",
            base.display()
        ),
    )
    .unwrap();
    let local = dir.path().join("local");
    let o = sweep(&file, &local, &["--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let dirs = shard_dirs(dir.path(), 2);
    for (i, d) in dirs.iter().enumerate() {
        let o = sweep(&file, d, &["--quiet", "--shard", &format!("{i}/2")]);
        // Shard 0 holds point 0 (ok), shard 1 points 1 and 2 (point 1 fails).
        assert_eq!(o.status.code(), Some(i as i32), "{}", stderr(&o));
    }
    let merged = dir.path().join("merged");
    let o = merge(&merged, &dirs);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 of 6 runs failed"), "{}", stderr(&o));
    assert_same_sweep(&local, &merged, false);
}

#[test]
fn bad_shards_and_merges_that_do_not_make_one_sweep_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "a.toml", 300, 6, 1, 5);
    let other = sweep_file(dir.path(), "b.toml", 300, 6, 1, 6);
    let out = dir.path().join("x");
    for (shard, expected) in [
        ("3/2", "--shard 3/2: shard 3 does not exist"),
        ("0/0", "--shard 0/0: the number of shards must be at least 1"),
        ("2", "--shard must be I/N"),
        ("a/b", "--shard must be I/N"),
        ("slurm", "SLURM_ARRAY_TASK_ID is not set"),
    ] {
        let o = sweep(&file, &out, &["--quiet", "--shard", shard]);
        assert_eq!(o.status.code(), Some(2), "{shard}: {}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{shard}: {}", stderr(&o));
        assert!(!out.exists(), "{shard}: nothing written");
    }

    let dirs = run_shards(&file, &dir.path().join("a"), 3, &[]);
    let others = run_shards(&other, &dir.path().join("b"), 3, &[]);
    // Another shard in a shard's directory.
    let o = sweep(&file, &dirs[1], &["--quiet", "--shard", "1/4"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("it holds shard 1/3 and this is shard 1/4"),
        "{}",
        stderr(&o)
    );

    let merged = dir.path().join("merged");
    let refusals: [(Vec<PathBuf>, &str); 4] = [
        (
            vec![dirs[0].clone(), others[1].clone(), dirs[2].clone()],
            "are not shards of the same sweep: their sweep files differ",
        ),
        (
            vec![dirs[0].clone(), dirs[2].clone()],
            "1 of 3 shards missing: 1 (runs 2..5)",
        ),
        (
            vec![dirs[0].clone(), dirs[1].clone(), dirs[1].clone(), dirs[2].clone()],
            "shard 1/3 is given twice",
        ),
        (vec![dirs[0].clone(), dir.path().join("nowhere")], "no such directory"),
    ];
    for (shards, expected) in refusals {
        let o = merge(&merged, &shards);
        assert_eq!(o.status.code(), Some(2), "{expected}: {}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{expected}: {}", stderr(&o));
        assert!(!merged.exists(), "{expected}: nothing written");
    }

    // An output directory holding another sweep, or one of the shards, is refused.
    let o = merge(&merged, &others);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = dir_entries(&merged);
    let o = merge(&merged, &dirs);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already holds a different sweep"), "{}", stderr(&o));
    assert_eq!(dir_entries(&merged), before);
    let o = merge(&dirs[0], &dirs);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is shard 0/3 itself"), "{}", stderr(&o));
    // A whole sweep is not a shard.
    let whole = dir.path().join("whole");
    assert!(sweep(&file, &whole, &["--quiet"]).status.success());
    let o = merge(&dir.path().join("m2"), &[whole]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a shard"), "{}", stderr(&o));
}
