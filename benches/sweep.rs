//! Sweep throughput: runs per second of a sweep of the baseline at 10,000 enterprises × 120
//! months, through the whole sweep machinery (plan, parallel runs, journal, ordered CSV output,
//! summaries), with 1 and 2 worker threads.
//!
//! Each iteration is a 20-run sweep (2 points × 10 replicates) into a fresh directory, so the
//! reported time divided by 20 is the cost of a run, and the ratio of the two thread counts is
//! the parallel speed-up. The full 1,000-run target is measured with
//! `configs/sweeps/throughput.toml` (see README, "Sweeps").

use std::path::PathBuf;

use std::sync::atomic::AtomicBool;

use aimarket::sweep::runner::{self, Options};
use aimarket::sweep::spec;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const RUNS: u64 = 20;

fn sweep_file(dir: &std::path::Path) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
    let path = dir.join("bench.toml");
    let body = format!(
        "base = '{}'\nreplicates = 10\nseed = 3\n\
         set = {{ \"run.enterprises\" = 10000, \"run.ticks\" = 120 }}\n\
         [[axes]]\nkey = \"enterprise.switch_cost_base\"\nvalues = [3.0, 5.0]\n",
        base.display()
    );
    std::fs::write(&path, body).expect("write bench sweep file");
    path
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = sweep_file(dir.path());
    let mut group = c.benchmark_group("sweep_10k_enterprises_120_ticks");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(8));
    group.throughput(Throughput::Elements(RUNS));
    for threads in [1usize, 2] {
        let mut n = 0u64;
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| {
                n += 1;
                let plan = spec::load(&file).expect("valid sweep file");
                let opts = Options {
                    out: dir.path().join(format!("out-{threads}-{n}")),
                    threads: Some(threads),
                    resume: false,
                    trajectories: false,
                    progress: false,
                    quiet_notes: true,
                };
                runner::execute(&plan, &opts, &AtomicBool::new(false)).expect("sweep runs");
                // Keep the disk footprint flat across iterations.
                let _ = std::fs::remove_dir_all(&opts.out);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
