//! `aimarket slurm --submit` on a real Slurm: a single-node cluster started for the test by
//! `tests/slurm/start.sh` (installing slurm-wlm and munge if missing), a small sweep submitted
//! as a job array of shards and a dependent merge job, and the merged results compared byte for
//! byte (apart from timing) with the same sweep run locally.
//!
//! Where no cluster can be started (not root, no package access) the test prints
//! "skipped: <reason>" and passes — unless `CI` is set, where it fails instead. Every daemon
//! the script started is stopped by PID when the test ends, also when it fails (a Drop guard).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::shard::assert_same_sweep;

/// How long the jobs may take before the test gives up (and shows the logs).
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// Exit code of start.sh when this machine cannot run a cluster.
const CANNOT_RUN: i32 = 77;

/// A cluster started by start.sh; dropping it stops the daemons the script started.
struct Cluster {
    script: PathBuf,
    dir: PathBuf,
    ports: (u16, u16),
}

impl Cluster {
    fn command(&self, action: &str) -> Command {
        let mut c = Command::new("bash");
        c.arg(&self.script)
            .arg(action)
            .env("AIMARKET_SLURM_DIR", &self.dir)
            .env("AIMARKET_SLURMCTLD_PORT", self.ports.0.to_string())
            .env("AIMARKET_SLURMD_PORT", self.ports.1.to_string())
            .stdin(Stdio::null());
        c
    }

    fn conf(&self) -> PathBuf {
        self.dir.join("slurm.conf")
    }

    /// The tail of every log of the cluster and of the jobs, for failure messages.
    fn logs(&self, jobs: &Path) -> String {
        let mut text = String::new();
        for dir in [self.dir.join("log"), jobs.to_path_buf()] {
            for name in dir_entries(&dir) {
                let path = dir.join(&name);
                let body = std::fs::read_to_string(&path).unwrap_or_default();
                let lines: Vec<&str> = body.lines().collect();
                let tail = lines[lines.len().saturating_sub(30)..].join("\n");
                text.push_str(&format!("\n--- {}\n{tail}", path.display()));
            }
        }
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        match self.command("stop").output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "stopping the test cluster failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("stopping the test cluster failed: {e}"),
        }
    }
}

/// Skips (or, under CI, fails) with `reason`.
fn skip(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("the real-Slurm test cannot run here, and CI is set: {reason}");
    }
    println!("skipped: {reason}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_sweep_run_as_a_slurm_job_array_and_merged_equals_the_local_sweep() {
    let started = Instant::now();
    if !cfg!(target_os = "linux") {
        return skip("the test cluster needs Linux");
    }
    let work = tempfile::tempdir().unwrap();
    let cluster = Cluster {
        script: repo("tests/slurm/start.sh"),
        dir: work.path().join("cluster"),
        ports: (free_port(), free_port()),
    };
    let up = cluster.command("start").output().expect("bash runs");
    match up.status.code() {
        Some(0) => {}
        Some(CANNOT_RUN) => {
            let why = String::from_utf8_lossy(&up.stderr);
            let reason = why.lines().last().unwrap_or("start.sh cannot run a cluster here");
            return skip(reason.trim_start_matches("slurm: cannot run here: "));
        }
        _ => panic!("tests/slurm/start.sh start failed:\n{}", text(&up)),
    }
    let cluster_secs = started.elapsed().as_secs_f64();

    // 8 points × 2 replicates at 1,000 enterprises × 12 months, over 4 array tasks (at most 3
    // at once), from a directory of its own so that relative paths are what a user would type.
    let dir = work.path().join("study");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("grid.toml"),
        format!(
            "base = '{}'\nreplicates = 2\nseed = 7\n\
             set = {{ \"run.enterprises\" = 1000, \"run.ticks\" = 12 }}\n\
             [[axes]]\nkey = \"enterprise.switch_cost_base\"\nrange = {{ min = 2.0, max = 6.0, levels = 4 }}\n\
             [[axes]]\nkey = \"providers.*.egress_fee\"\nvalues = [0.0, 0.06]\n",
            repo("configs/baseline.toml").display()
        ),
    )
    .unwrap();
    let aimarket = |args: &[&str]| {
        Command::new(binary())
            .args(args)
            .current_dir(&dir)
            .env("SLURM_CONF", cluster.conf())
            .stdin(Stdio::null())
            .output()
            .expect("aimarket runs")
    };
    let o = aimarket(&[
        "slurm",
        "grid.toml",
        "--tasks",
        "4",
        "--array-limit",
        "3",
        "--cpus-per-task",
        "1",
        "--time",
        "00:10:00",
        "--out",
        "cluster-out",
        "--trajectories",
        "--submit",
    ]);
    assert!(o.status.success(), "aimarket slurm --submit failed:\n{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let job = |label: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{stdout}"))
            .trim()
            .to_string()
    };
    let (array, merge) = (job("array job:"), job("merge job:"));
    assert!(stdout.contains(&format!("--dependency=afterok:{array}")), "{stdout}");
    let script = std::fs::read_to_string(dir.join("cluster-out/slurm/sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-3%3"), "{script}");
    assert!(
        script.contains("shard_dir=\"$OUT/shard-$SLURM_ARRAY_TASK_ID\""),
        "{script}"
    );
    assert!(
        script.contains("sweep \"$SWEEP\" --shard slurm --out \"$shard_dir\""),
        "{script}"
    );

    // Wait until neither job is known to squeue any more.
    let jobs_logs = dir.join("cluster-out/slurm/logs");
    let deadline = Instant::now() + JOB_TIMEOUT;
    loop {
        let q = Command::new("squeue")
            .args(["-h", "-j", &format!("{array},{merge}"), "-o", "%i %T %r"])
            .env("SLURM_CONF", cluster.conf())
            .output()
            .expect("squeue runs");
        let listed = String::from_utf8_lossy(&q.stdout).trim().to_string();
        if listed.is_empty() {
            break;
        }
        if listed.contains("DependencyNeverSatisfied") {
            panic!(
                "an array task failed, so the merge never starts:\n{listed}{}",
                cluster.logs(&jobs_logs)
            );
        }
        if Instant::now() > deadline {
            panic!(
                "the jobs did not finish within {} s:\n{listed}{}",
                JOB_TIMEOUT.as_secs(),
                cluster.logs(&jobs_logs)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let merged = dir.join("cluster-out");
    assert!(
        merged.join("manifest.json").exists(),
        "the merge job wrote no manifest.json:{}",
        cluster.logs(&jobs_logs)
    );
    let merge_log = std::fs::read_to_string(jobs_logs.join(format!("merge-{merge}.out"))).unwrap_or_default();
    assert!(
        merge_log.contains("merged 4 shards: 8 points, 16 runs (16 ok, 0 failed)"),
        "{merge_log}"
    );
    for i in 0..4 {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(merged.join(format!("shard-{i}/manifest.json"))).unwrap()).unwrap();
        assert_eq!(
            (m["shard"]["index"].as_u64(), m["shard"]["count"].as_u64()),
            (Some(i), Some(4))
        );
    }
    let jobs_secs = started.elapsed().as_secs_f64() - cluster_secs;

    // The same sweep, locally.
    let o = aimarket(&["sweep", "grid.toml", "--out", "local", "--trajectories", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    // The merged directory also holds the shards and the scripts; compare the sweep's files.
    let only_sweep = work.path().join("merged-files");
    std::fs::create_dir_all(&only_sweep).unwrap();
    for name in dir_entries(&merged) {
        let path = merged.join(&name);
        if path.is_file() {
            std::fs::copy(&path, only_sweep.join(&name)).unwrap();
        }
    }
    assert_same_sweep(&dir.join("local"), &only_sweep, true);
    println!(
        "real Slurm: cluster up in {cluster_secs:.1} s, jobs done in {jobs_secs:.1} s, {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

/// The scripts without Slurm: written without --submit, they run under plain bash with the
/// variables Slurm would set, and their merge equals the local sweep; bad arguments are
/// refused with exit code 2 before anything is written.
#[test]
fn the_slurm_scripts_run_under_bash_as_an_array_would_and_merge_into_the_local_sweep() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(
        dir.join("tiny.toml"),
        format!(
            "base = '{}'\nreplicates = 2\nset = {{ \"run.enterprises\" = 300, \"run.ticks\" = 6 }}\n\
             [[axes]]\nkey = \"providers.*.egress_fee\"\nvalues = [0.0, 0.03, 0.06]\n",
            repo("configs/baseline.toml").display()
        ),
    )
    .unwrap();
    let aimarket = |args: &[&str]| {
        Command::new(binary())
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("aimarket runs")
    };
    for (args, expected) in [
        (vec!["--tasks", "0"], "--tasks must be at least 1"),
        (
            vec!["--tasks", "2", "--array-limit", "0"],
            "--array-limit must be at least 1",
        ),
        (
            vec!["--tasks", "2", "--cpus-per-task", "0"],
            "--cpus-per-task must be at least 1",
        ),
    ] {
        let mut all = vec!["slurm", "tiny.toml", "--out", "out"];
        all.extend(args);
        let o = aimarket(&all);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(expected), "{}", text(&o));
        assert!(!dir.join("out").exists());
    }

    // 3 points over 4 tasks: one task has nothing to do, and says so.
    let o = aimarket(&[
        "slurm",
        "tiny.toml",
        "--tasks",
        "4",
        "--partition",
        "short",
        "--out",
        "out",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains("jobid=$(sbatch --parsable out/slurm/sweep.sbatch)"),
        "{said}"
    );
    assert!(
        said.contains("sbatch --dependency=afterok:${jobid%%;*} out/slurm/merge.sbatch"),
        "{said}"
    );
    assert!(said.contains("4 tasks for 3 points: 1 of them have no runs"), "{said}");
    let array = std::fs::read_to_string(dir.join("out/slurm/sweep.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-3\n",
        "#SBATCH --partition=short\n",
        "#SBATCH --cpus-per-task=1\n",
    ] {
        assert!(array.contains(line), "{line}: {array}");
    }
    assert!(array.contains(&format!("AIMARKET={}\n", binary().display())), "{array}");
    let merge = std::fs::read_to_string(dir.join("out/slurm/merge.sbatch")).unwrap();
    assert!(
        merge.contains("\"$AIMARKET\" merge \"$OUT\" \"$OUT\"/shard-{0..3}"),
        "{merge}"
    );

    for task in 0..4 {
        let o = Command::new("bash")
            .arg("out/slurm/sweep.sbatch")
            .current_dir(dir)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "4")
            .env("SLURM_CPUS_PER_TASK", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "task {task}: {}", text(&o));
    }
    let o = Command::new("bash")
        .arg("out/slurm/merge.sbatch")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = aimarket(&["sweep", "tiny.toml", "--out", "local", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let files = dir.join("merged-files");
    std::fs::create_dir_all(&files).unwrap();
    for name in dir_entries(&dir.join("out")) {
        let path = dir.join("out").join(&name);
        if path.is_file() {
            std::fs::copy(&path, files.join(&name)).unwrap();
        }
    }
    assert_same_sweep(&dir.join("local"), &files, false);

    // The output directory now holds this sweep; one holding another sweep is refused.
    let o = aimarket(&["slurm", "tiny.toml", "--tasks", "2", "--out", "out", "--trajectories"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already holds a different sweep"), "{}", text(&o));
}
