//! Reproducibility: the same config and seed give byte-identical output files (the manifest
//! differs only in `wall_seconds`), whatever the number of rayon threads; a different seed gives
//! different results; and the in-process engine is deterministic tick by tick.

use std::path::Path;

use aimarket::sim::Simulation;

use crate::common::*;

const FILES: [&str; 3] = ["metrics.csv", "shares.csv", "agents.csv"];

/// Runs the binary on the baseline into `out` with a small population and extra arguments.
fn run_into(out: &Path, extra: &[&str], env: &[(&str, &str)]) {
    let out_s = out.to_str().expect("utf-8 path");
    let mut args = vec![
        "run",
        "configs/baseline.toml",
        "--enterprises",
        "20000",
        "--quiet",
        "--out",
        out_s,
    ];
    args.extend_from_slice(extra);
    let o = aimarket(&args, env);
    assert!(o.status.success(), "run failed: {}", String::from_utf8_lossy(&o.stderr));
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The manifest as JSON with `wall_seconds` removed.
fn manifest_without_wall_time(dir: &Path) -> serde_json::Value {
    let mut m: serde_json::Value = serde_json::from_slice(&read(dir, "manifest.json")).expect("manifest is JSON");
    let obj = m.as_object_mut().expect("manifest is an object");
    assert!(
        obj.remove("wall_seconds")
            .is_some_and(|w| w.as_f64().is_some_and(|w| w >= 0.0)),
        "manifest records wall_seconds"
    );
    m
}

#[test]
fn same_seed_gives_byte_identical_files_and_manifests_equal_but_for_wall_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_into(&a, &["--seed", "99"], &[]);
    run_into(&b, &["--seed", "99"], &[]);
    for f in FILES {
        assert!(
            read(&a, f) == read(&b, f),
            "{f} differs between two runs with the same seed"
        );
    }
    assert_eq!(manifest_without_wall_time(&a), manifest_without_wall_time(&b));
}

#[test]
fn thread_count_does_not_change_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    run_into(&one, &[], &[("RAYON_NUM_THREADS", "1")]);
    run_into(&two, &[], &[("RAYON_NUM_THREADS", "2")]);
    for f in FILES {
        assert!(
            read(&one, f) == read(&two, f),
            "{f} differs between 1 and 2 rayon threads"
        );
    }
    assert_eq!(manifest_without_wall_time(&one), manifest_without_wall_time(&two));
}

#[test]
fn a_different_seed_gives_different_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_into(&a, &["--seed", "1"], &[]);
    run_into(&b, &["--seed", "2"], &[]);
    let (ma, mb) = (
        String::from_utf8(read(&a, "metrics.csv")).unwrap(),
        String::from_utf8(read(&b, "metrics.csv")).unwrap(),
    );
    assert_eq!(ma.lines().next(), mb.lines().next(), "same columns");
    assert_eq!(ma.lines().count(), mb.lines().count(), "same number of ticks");
    let differing = ma.lines().zip(mb.lines()).skip(1).filter(|(x, y)| x != y).count();
    assert!(
        differing > ma.lines().count() / 2,
        "only {differing} of the tick rows differ between seeds 1 and 2"
    );
    assert!(
        read(&a, "shares.csv") != read(&b, "shares.csv"),
        "shares do not depend on the seed"
    );
    assert_ne!(
        manifest_without_wall_time(&a)["seed"],
        manifest_without_wall_time(&b)["seed"]
    );
}

#[test]
fn in_process_runs_repeat_exactly_and_seeds_matter() {
    let config = small_baseline(10_000, 36, &[]);
    let other = small_baseline(10_000, 36, &["run.seed=12345"]);
    let trajectory = |c| {
        let mut sim = Simulation::new(c);
        (0..36).map(|_| sim.step().expect("tick").clone()).collect::<Vec<_>>()
    };
    let (x, y, z) = (trajectory(&config), trajectory(&config), trajectory(&other));
    for (rx, ry) in x.iter().zip(&y) {
        assert_eq!(
            rx.metrics.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            ry.metrics.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "tick {}",
            rx.tick
        );
        assert_eq!(rx.shares, ry.shares, "tick {}", rx.tick);
        assert_eq!(rx.agents, ry.agents, "tick {}", rx.tick);
    }
    assert!(
        x.iter().zip(&z).any(|(a, b)| a.metrics != b.metrics),
        "seed changes the trajectory"
    );
}

#[test]
fn the_enterprise_phase_gives_byte_identical_files_for_any_thread_count() {
    // 20,000 enterprises: two parallel chunks of 16,384, so the chunked path really runs.
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = dir.path().join(format!("t{threads}"));
        run_into(&out, &["--ticks", "24", "--threads", threads], &[]);
        outputs.push(out);
    }
    for name in ["metrics.csv", "shares.csv", "agents.csv"] {
        let one = read(&outputs[0], name);
        for other in &outputs[1..] {
            assert!(one == read(other, name), "{name} differs between 1 and more threads");
        }
    }
}
