//! Sensitivity analysis end to end on the model: `design = "morris"` and `"sobol"` sweeps and
//! `aimarket analyze`. A parameter that cannot matter (the price response of a provider that
//! enters after the run ends) gets ST = 0 with an interval containing 0, and μ* = 0; one that
//! does (`enterprise.quality_weight` for `hhi_model`) gets ST clearly above it; the results do
//! not depend on `--threads` or on sharding; a failed point makes the indices it touches missing
//! with a reason; bad sweep files and directories are refused with exit 2 and a message naming
//! the file, key and value. Sizes are small (1,000 enterprises × 12 months, N = 32).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;

/// A provider that enters long after the 12-month runs end: its behaviour cannot matter.
const DORMANT: &str = r#"
[providers.dormant]
name = "Dormant entrant"
entry = "2099-01"
home_share = 0.0
capacity_kgpu = 100.0
unit_cost = 2.0
price = 3.0
price_response = 0.05
target_utilisation = 0.85
invest_rate = 0.02
invest_response = 0.15
build_lag_months = 12
egress_fee = 0.03
bundle_strength = 0.0
suite_share = 0.0
licensing_penalty = 0.0
marketplace = "open"
marketplace_margin = 0.2
cloud_price_index = 0.9
brand = -3.0
"#;

/// Writes the baseline plus the dormant provider as `base.toml`, and a sweep file `name` with
/// `body` starting from it.
fn setup(dir: &Path, name: &str, body: &str) -> PathBuf {
    let base = std::fs::read_to_string(repo("configs/baseline.toml")).expect("baseline");
    std::fs::write(dir.join("base.toml"), format!("{base}{DORMANT}")).expect("write base");
    let file = dir.join(name);
    std::fs::write(
        &file,
        format!("base = \"base.toml\"\nseed = 5\n{body}\n[set]\n\"run.enterprises\" = 1000\n\"run.ticks\" = 12\n"),
    )
    .expect("write sweep file");
    file
}

const SOBOL: &str = "design = \"sobol\"\nbase_samples = 32\n\
    [[axes]]\nkey = \"enterprise.quality_weight\"\nrange = { min = 0.5, max = 1.5 }\n\
    [[axes]]\nkey = \"providers.dormant.price_response\"\nrange = { min = 0.01, max = 0.2 }\n";

fn run(args: &[&str]) -> Output {
    aimarket(args, &[])
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sweep(file: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sweep", s(file), "--out", s(out), "--quiet"];
    args.extend_from_slice(extra);
    run(&args)
}

fn analyze(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["analyze", s(dir)];
    args.extend_from_slice(extra);
    run(&args)
}

/// sensitivity.csv as rows of fields keyed by the header.
fn rows(dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join("sensitivity.csv")).expect("sensitivity.csv");
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "parameter",
            "metric",
            "window",
            "index",
            "value",
            "ci_low",
            "ci_high",
            "n_used",
            "missing_reason"
        ]
    );
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.expect("row").iter().map(String::from))
                .collect()
        })
        .collect()
}

fn find<'a>(
    rows: &'a [std::collections::BTreeMap<String, String>],
    parameter: &str,
    metric: &str,
    index: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["parameter"] == parameter && r["metric"] == metric && r["index"] == index)
        .unwrap_or_else(|| panic!("no row {parameter} {metric} {index}"))
}

fn num(r: &std::collections::BTreeMap<String, String>, col: &str) -> f64 {
    r[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = `{}` in {r:?}", r[col]))
}

#[test]
fn sobol_tells_an_inert_parameter_from_one_that_matters_for_any_threads_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let file = setup(dir.path(), "s.toml", SOBOL);
    let one = dir.path().join("one");
    let two = dir.path().join("two");
    let o = sweep(&file, &one, &["--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sweep(&file, &two, &["--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // The manifest records the design; points.csv is the design in row order.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["design"], "sobol");
    assert_eq!(m["sensitivity"]["k"], 2);
    assert_eq!(m["sensitivity"]["base_samples"], 32);
    assert_eq!(m["sensitivity"]["rows"], 128);
    assert_eq!(m["sensitivity"]["design_seed"], 5);
    assert_eq!(
        std::fs::read(one.join("points.csv")).unwrap(),
        std::fs::read(two.join("points.csv")).unwrap()
    );

    let o = analyze(&one, &["--metric", "hhi_model", "--window", "final"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    let r = rows(&one);
    let inert = find(&r, "providers.dormant.price_response", "hhi_model", "ST");
    let quality = find(&r, "enterprise.quality_weight", "hhi_model", "ST");
    assert_eq!(inert["window"], "final");
    assert!(num(inert, "value").abs() < 1e-9, "{inert:?}");
    assert!(num(inert, "ci_low") <= 0.0 && num(inert, "ci_high") >= 0.0, "{inert:?}");
    assert!(num(quality, "ci_low") > 0.05, "{quality:?}");
    assert!(
        num(quality, "ci_low") > num(inert, "ci_high"),
        "{quality:?} vs {inert:?}"
    );
    assert_eq!(quality["n_used"], "32");
    // The table ranks quality_weight first.
    let first = table.lines().find(|l| l.trim_start().starts_with("1 ")).unwrap_or("");
    assert!(first.contains("enterprise.quality_weight"), "{table}");
    assert!(stderr(&o).contains("below 512"), "{}", stderr(&o));

    // Identical for any --threads.
    let o = analyze(&two, &["--metric", "hhi_model", "--window", "final"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(one.join("sensitivity.csv")).unwrap(),
        std::fs::read(two.join("sensitivity.csv")).unwrap()
    );

    // Sharded and merged: the same indices.
    let (a, b, merged) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("merged"));
    assert!(sweep(&file, &a, &["--shard", "0/2"]).status.success());
    assert!(sweep(&file, &b, &["--shard", "1/2"]).status.success());
    let o = analyze(&a, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("shard"), "{}", stderr(&o));
    let o = run(&["merge", s(&merged), s(&a), s(&b), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        analyze(&merged, &["--metric", "hhi_model", "--window", "final"])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read(one.join("sensitivity.csv")).unwrap(),
        std::fs::read(merged.join("sensitivity.csv")).unwrap()
    );

    // Another window adds its rows and keeps the others; a tick reads summary.csv.
    let o = analyze(&one, &["--metric", "hhi_model", "--window", "11"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = rows(&one);
    assert!(r.iter().any(|x| x["window"] == "final"));
    let at = r
        .iter()
        .find(|x| x["window"] == "tick:11" && x["index"] == "ST" && x["parameter"] == "enterprise.quality_weight")
        .expect("tick rows");
    // The final tick is tick 11: the same outputs, so the same index.
    assert_eq!(at["value"], quality["value"]);

    // Refusals: tick out of range, unknown metric, bad window.
    let o = analyze(&one, &["--window", "12"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("tick out of range; the sweep's runs have ticks 0 to 11"),
        "{}",
        stderr(&o)
    );
    let o = analyze(&one, &["--metric", "hhi_nothing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown metric `hhi_nothing`"), "{}", stderr(&o));
    let o = analyze(&one, &["--window", "last"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--window must be"), "{}", stderr(&o));
}

#[test]
fn morris_gives_an_inert_parameter_no_effect() {
    let dir = tempfile::tempdir().unwrap();
    let body = "design = \"morris\"\ntrajectories = 6\nlevels = 4\n\
        [[axes]]\nkey = \"enterprise.quality_weight\"\nrange = { min = 0.5, max = 1.5 }\n\
        [[axes]]\nkey = \"providers.dormant.price_response\"\nrange = { min = 0.01, max = 0.2 }\n";
    let file = setup(dir.path(), "m.toml", body);
    let out = dir.path().join("out");
    let o = sweep(&file, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = analyze(&out, &["--metric", "hhi_model"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = rows(&out);
    let inert = find(&r, "providers.dormant.price_response", "hhi_model", "mu_star");
    let quality = find(&r, "enterprise.quality_weight", "hhi_model", "mu_star");
    assert_eq!(num(inert, "value"), 0.0, "{inert:?}");
    assert_eq!(inert["n_used"], "6");
    assert!(num(quality, "ci_low") > 0.0, "{quality:?}");
    assert_eq!(inert["window"], "average");
    for index in ["mu", "sigma"] {
        find(&r, "enterprise.quality_weight", "hhi_model", index);
    }
}

#[test]
fn a_failed_point_makes_the_indices_it_touches_missing() {
    let dir = tempfile::tempdir().unwrap();
    // review_probability above 1 is rejected by the model: about a third of the points fail.
    let body = "design = \"sobol\"\nbase_samples = 32\n\
        [[axes]]\nkey = \"enterprise.review_probability\"\nrange = { min = 0.5, max = 1.2 }\n\
        [[axes]]\nkey = \"enterprise.quality_weight\"\nrange = { min = 0.5, max = 1.5 }\n";
    let file = setup(dir.path(), "f.toml", body);
    let out = dir.path().join("out");
    let o = sweep(&file, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = analyze(&out, &["--metric", "hhi_model"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = rows(&out);
    for p in ["enterprise.review_probability", "enterprise.quality_weight"] {
        for index in ["S1", "ST"] {
            let x = find(&r, p, "hhi_model", index);
            assert_eq!(x["value"], "", "{x:?}");
            assert_eq!(x["ci_low"], "", "{x:?}");
            assert!(num(x, "n_used") < 32.0, "{x:?}");
            assert!(
                x["missing_reason"].contains("base samples have A, B and AB_i all finished")
                    && x["missing_reason"].contains("failed point(s), first: point"),
                "{x:?}"
            );
        }
    }
    assert!(stderr(&o).contains("S1 and ST are missing"), "{}", stderr(&o));
}

#[test]
fn bad_sweep_files_for_the_new_designs_name_the_file_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let axis = "[[axes]]\nkey = \"enterprise.quality_weight\"\nrange = { min = 0.5, max = 1.5 }\n";
    let cases = [
        (
            "design = \"sobol\"\nbase_samples = 8\n[[axes]]\nkey = \"enterprise.quality_weight\"\nvalues = [0.5, 1.0]\n".to_string(),
            "axes[0].values cannot be used with design = \"sobol\": every axis must be a range axis, e.g. range = { min = 0.5, max = 1.5 }; got [0.5, 1.0]",
        ),
        (
            "design = \"morris\"\ntrajectories = 4\n[[axes]]\nkey = \"enterprise.quality_weight\"\nrange = { min = 0.5, max = 1.5, levels = 3 }\n".to_string(),
            "axes[0].range.levels is only for grid designs; design = \"morris\" places its own points, got 3",
        ),
        (
            format!("design = \"sobol\"\n{axis}"),
            "base_samples is missing: design = \"sobol\" needs the number of base samples N",
        ),
        (format!("design = \"sobol\"\nbase_samples = 1\n{axis}"), "base_samples must be at least 2, got 1"),
        (
            format!("design = \"sobol\"\nbase_samples = 100000\n{axis}"),
            "base_samples must be at most 65536 (the Sobol' generator's limit), got 100000",
        ),
        (
            format!("design = \"morris\"\n{axis}"),
            "trajectories is missing: design = \"morris\" needs the number of trajectories r",
        ),
        (
            format!("design = \"morris\"\ntrajectories = 4\nlevels = 5\n{axis}"),
            "levels must be an even number from 2 to 1000 (the step is p/2 grid levels), got 5",
        ),
        (
            format!("design = \"sobol\"\nbase_samples = 8\npoints = 10\n{axis}"),
            "points is not used by design = \"sobol\" (its points are base_samples × (k + 2)), got 10",
        ),
        (
            format!("design = \"morris\"\ntrajectories = 4\nbase_samples = 8\n{axis}"),
            "base_samples is only for design = \"sobol\", not \"morris\", got 8",
        ),
        (
            format!("design = \"lhs\"\npoints = 4\ntrajectories = 4\n{axis}"),
            "trajectories is only for design = \"morris\", not \"lhs\", got 4",
        ),
        (
            "design = \"sobol\"\nbase_samples = 8\n".to_string(),
            "axes is missing: design = \"sobol\" needs at least one range axis",
        ),
        (
            format!("design = \"sobol\"\nbase_samples = 8\nscenarios = [\"base.toml\"]\n{axis}"),
            "scenarios cannot be combined with design = \"sobol\"",
        ),
        (
            format!("design = \"sobel\"\n{axis}"),
            "design is invalid: invalid value: string \"sobel\", expected \"grid\", \"random\", \"lhs\", \"morris\" or \"sobol\"",
        ),
    ];
    for (i, (body, expected)) in cases.iter().enumerate() {
        let file = setup(dir.path(), &format!("bad{i}.toml"), body);
        let o = sweep(&file, &dir.path().join(format!("out{i}")), &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{body}: {err}");
        assert!(err.contains(&format!("bad{i}.toml: {expected}")), "{body}\n→ {err}");
    }
}

#[test]
fn analyze_refuses_directories_it_cannot_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let o = analyze(&dir.path().join("nowhere"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a sweep directory (no such directory)"),
        "{}",
        stderr(&o)
    );
    let o = analyze(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a sweep directory (no manifest.json)"),
        "{}",
        stderr(&o)
    );

    // A grid sweep.
    let file = setup(
        dir.path(),
        "g.toml",
        "[[axes]]\nkey = \"enterprise.quality_weight\"\nvalues = [0.5, 1.0]\n",
    );
    let grid = dir.path().join("grid");
    assert!(sweep(&file, &grid, &[]).status.success());
    let o = analyze(&grid, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is a design = \"grid\" sweep; analyze needs a design = \"morris\" or \"sobol\" sweep"),
        "{}",
        stderr(&o)
    );

    // An incomplete sweep: its state file but no manifest yet.
    let file = setup(dir.path(), "s.toml", SOBOL);
    let part = dir.path().join("part");
    assert!(sweep(&file, &part, &["--shard", "0/2"]).status.success());
    std::fs::remove_file(part.join("manifest.json")).unwrap();
    let o = analyze(&part, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("holds an incomplete sweep"), "{}", stderr(&o));
}
