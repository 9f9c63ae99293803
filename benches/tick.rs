//! Speed of a full tick (all six phases) of the baseline at 10^4, 10^5 and 10^6 enterprises.
//!
//! Target: ≤ 10 ns per enterprise per tick on one core, and cost linear in the number of
//! enterprises. Criterion reports the throughput in enterprises per second (`Throughput::Elements`);
//! ns per enterprise-tick is its inverse. Each world is replaced by a fresh one after the
//! baseline's 120 months (outside the timed region), so the timings cover the whole horizon. Run with `cargo bench --bench tick`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use aimarket::config;
use aimarket::sim::Simulation;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The baseline with `n` enterprises and no exogenous growth.
fn steady_baseline(n: u32) -> config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
    // Workload growth stays on: it is what gives projects their units, so the timed ticks
    // include every per-enterprise decision. Worlds are replaced after the 120-month horizon.
    let overrides = [
        format!("run.enterprises={n}"),
        "labs.*.budget_growth_per_year=0".to_string(),
    ];
    config::load(&path, &overrides).expect("baseline with overrides is valid")
}

/// Ticks a world runs before it is replaced by a fresh one (the baseline's horizon): capacity
/// keeps compounding at `invest_rate`, so a world iterated for thousands of years overflows.
const HORIZON: u32 = 120;

fn tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick");
    group.warm_up_time(Duration::from_secs(1));
    for n in [10_000u32, 100_000, 1_000_000] {
        let config = steady_baseline(n);
        let mut sim = Simulation::new(&config);
        group.throughput(Throughput::Elements(u64::from(n)));
        group.sample_size(if n >= 1_000_000 { 20 } else { 50 });
        group.measurement_time(Duration::from_secs(if n >= 1_000_000 { 10 } else { 4 }));
        group.bench_function(format!("baseline/{n}"), |b| {
            // Only `step` is timed; building a replacement world is not.
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    if sim.ticks_done() >= HORIZON {
                        sim = Simulation::new(&config);
                    }
                    let start = Instant::now();
                    let report = sim.step().expect("tick");
                    black_box(report.metrics[aimarket::config::Metric::HhiCloud]);
                    timed += start.elapsed();
                }
                timed
            })
        });
    }
    group.finish();
}

/// The same tick at 10^6 enterprises with the enterprise phase on 1 and 2 threads
/// (`run --threads N`); the ratio is the within-run speed-up.
fn tick_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick_threads");
    group.warm_up_time(Duration::from_secs(1));
    let n = 1_000_000u32;
    let config = steady_baseline(n);
    for threads in [1usize, 2] {
        let mut sim = Simulation::with_threads(&config, threads);
        group.throughput(Throughput::Elements(u64::from(n)));
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(10));
        group.bench_function(format!("baseline/{n}/{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    if sim.ticks_done() >= HORIZON {
                        sim = Simulation::with_threads(&config, threads);
                    }
                    let start = Instant::now();
                    let report = sim.step().expect("tick");
                    black_box(report.metrics[aimarket::config::Metric::HhiCloud]);
                    timed += start.elapsed();
                }
                timed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, tick, tick_threads);
criterion_main!(benches);
