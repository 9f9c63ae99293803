//! `aimarket plot`: every figure kind on small real outputs (2,000 enterprises × 24 months). The
//! image is checked by type and size; what it shows is checked through the exported CSV
//! (`<out>.csv`), whose numbers must be the input files' numbers. Bad inputs exit with 2 and say why.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::{aimarket, dir_entries, read_csv};

type Row = HashMap<String, String>;

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Outputs made once for every test: a run, a sweep and a comparison with trajectories.
struct Fixture {
    _dir: tempfile::TempDir,
    run: PathBuf,
    sweep: PathBuf,
    compare: PathBuf,
    compare_plain: PathBuf,
    root: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        let path = |n: &str| root.join(n);
        let s = |p: &Path| p.to_str().expect("utf-8 path").to_string();
        let (run, sweep, compare, plain) = (path("run"), path("sweep"), path("compare"), path("plain"));
        let small = ["--enterprises", "2000", "--ticks", "24", "--quiet"];
        ok(&aimarket(
            &[&["run", "configs/baseline.toml", "--out", &s(&run)][..], &small[..]].concat(),
            &[],
        ));
        ok(&aimarket(
            &["sweep", "configs/sweeps/smoke.toml", "--out", &s(&sweep), "--quiet"],
            &[],
        ));
        let cmp = [
            "compare",
            "configs/baseline.toml",
            "configs/scenarios/eu_data_act.toml",
            "--replicates",
            "3",
        ];
        ok(&aimarket(
            &[&cmp[..], &small[..], &["--trajectories", "--out", &s(&compare)][..]].concat(),
            &[],
        ));
        ok(&aimarket(
            &[&cmp[..], &small[..], &["--out", &s(&plain)][..]].concat(),
            &[],
        ));
        Fixture {
            _dir: dir,
            run,
            sweep,
            compare,
            compare_plain: plain,
            root,
        }
    })
}

/// Runs `aimarket plot DIR ARGS... --out OUT` and returns the image path.
fn plot(dir: &Path, args: &[&str], out: &str) -> PathBuf {
    let f = fixture();
    let image = f.root.join("figures").join(out);
    let o = aimarket(
        &[
            &[
                "plot",
                dir.to_str().expect("utf-8"),
                "--out",
                image.to_str().expect("utf-8"),
            ][..],
            args,
            &["--quiet"][..],
        ]
        .concat(),
        &[],
    );
    ok(&o);
    image
}

fn exported(image: &Path) -> Vec<Row> {
    let mut p = image.as_os_str().to_owned();
    p.push(".csv");
    let rows = read_csv(Path::new(&p));
    assert!(!rows.is_empty(), "{} exports data", image.display());
    rows
}

/// Width and height of a PNG, after checking its signature.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("image");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is a PNG", path.display());
    assert!(
        (10_000..10_000_000).contains(&bytes.len()),
        "{}: {} bytes",
        path.display(),
        bytes.len()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    (be(16), be(20))
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("{s:?} is a number"))
}

#[test]
fn a_run_figure_draws_the_four_hhis_from_metrics_csv() {
    let f = fixture();
    let image = plot(&f.run, &["--width", "900", "--height", "700"], "run.png");
    assert_eq!(png_size(&image), (900, 700));
    let rows = exported(&image);
    let metrics = read_csv(&f.run.join("metrics.csv"));
    let panels: Vec<&str> = {
        let mut p: Vec<&str> = rows.iter().map(|r| r["panel"].as_str()).collect();
        p.dedup();
        p
    };
    assert_eq!(panels, ["hhi_cloud", "hhi_ai_channel", "hhi_model", "hhi_compute"]);
    assert_eq!(rows.len(), 4 * 24);
    for r in &rows {
        let m = metrics
            .iter()
            .find(|m| m["date"] == r["x"])
            .expect("a month of metrics.csv");
        assert_eq!(r["y"], m[&r["panel"]], "{r:?}");
        assert_eq!((r["y_low"].as_str(), r["y_high"].as_str()), ("", ""));
    }
    assert_eq!(rows[0]["x"], "2026-01");
    assert_eq!(rows[23]["x"], "2027-12");

    // SVG by extension, any metric of the catalogue.
    let svg = plot(&f.run, &["--metric", "switching_rate", "mean_compute_price"], "run.svg");
    let text = std::fs::read_to_string(&svg).expect("svg");
    assert!(
        text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
        "SVG root"
    );
    assert!(text.contains("switching_rate") && text.contains("US$ per GPU-hour"));
    let rows = exported(&svg);
    assert_eq!(rows.len(), 2 * 24);
    for r in &rows {
        let m = metrics.iter().find(|m| m["date"] == r["x"]).expect("month");
        assert_eq!(r["y"], m[&r["panel"]]);
    }
}

#[test]
fn a_sweep_figure_draws_each_points_mean_and_band_from_summary_csv() {
    let f = fixture();
    let image = plot(&f.sweep, &["--metric", "hhi_model", "switching_rate"], "sweep.png");
    let (w, h) = png_size(&image);
    assert!(w >= 720 && h >= 300, "{w} × {h}");
    let rows = exported(&image);
    let summary = read_csv(&f.sweep.join("summary.csv"));
    let points = read_csv(&f.sweep.join("points.csv"));
    // 4 points × 24 months × 2 metrics, labelled by their axis values.
    assert_eq!(rows.len(), 4 * 24 * 2);
    let label = |p: &Row| {
        format!(
            "switch_cost_base={}, egress_fee={}",
            p["enterprise.switch_cost_base"], p["providers.*.egress_fee"]
        )
    };
    let start = aimarket::config::Month::parse("2026-01").expect("month");
    for r in &rows {
        let p = points
            .iter()
            .find(|p| label(p) == r["series"])
            .expect("a point's label");
        let s = summary
            .iter()
            .find(|s| {
                s["point"] == p["point"]
                    && s["metric"] == r["panel"]
                    && start.plus(num(&s["tick"]) as i64).to_string() == r["x"]
            })
            .expect("a summary row");
        assert_eq!(
            (&r["y"], &r["y_low"], &r["y_high"]),
            (&s["mean"], &s["ci_low"], &s["ci_high"])
        );
    }
}

#[test]
fn a_compare_figure_draws_levels_and_the_paired_difference_from_trajectories_csv() {
    let f = fixture();
    let image = plot(&f.compare, &[], "compare.png");
    let (w, h) = png_size(&image);
    assert!(w > h && w >= 1600, "four columns: {w} × {h}");
    let rows = exported(&image);
    let traj = read_csv(&f.compare.join("trajectories.csv"));
    // Per HHI: base and scenario levels, and the difference: 3 series × 24 months × 4 markets.
    assert_eq!(rows.len(), 3 * 24 * 4);
    for r in &rows {
        let (delta, quantity) = match r["panel"].strip_prefix("delta:") {
            Some(q) => (true, q),
            None => (false, r["panel"].as_str()),
        };
        assert!(quantity.starts_with("hhi_"), "{r:?}");
        let t = traj
            .iter()
            .find(|t| t["quantity"] == quantity && t["date"] == r["x"])
            .expect("a trajectories row");
        let prefix = match (delta, r["series"].as_str()) {
            (true, "eu_data_act") => "delta",
            (false, "baseline") => "base",
            (false, "eu_data_act") => "scenario",
            other => panic!("unexpected series {other:?}"),
        };
        let (m, lo, hi) = if prefix == "delta" {
            (
                "delta".to_string(),
                "delta_ci_low".to_string(),
                "delta_ci_high".to_string(),
            )
        } else {
            (
                format!("{prefix}_mean"),
                format!("{prefix}_ci_low"),
                format!("{prefix}_ci_high"),
            )
        };
        assert_eq!(
            (&r["y"], &r["y_low"], &r["y_high"]),
            (&t[&m], &t[&lo], &t[&hi]),
            "{r:?}"
        );
    }
    // Quantities beyond the catalogue's metrics: a provider's rent.
    let rent = plot(&f.compare, &["--metric", "rent.azure"], "rent.svg");
    let rows = exported(&rent);
    assert!(rows.iter().any(|r| r["panel"] == "delta:rent.azure"));
}

/// Mean of the runs.csv column over the ok runs of the points selected by `keep`.
fn runs_mean(f: &Fixture, column: &str, keep: impl Fn(&Row) -> bool) -> f64 {
    let runs = read_csv(&f.sweep.join("runs.csv"));
    let points = read_csv(&f.sweep.join("points.csv"));
    let v: Vec<f64> = runs
        .iter()
        .filter(|r| r["status"] == "ok" && keep(points.iter().find(|p| p["point"] == r["point"]).expect("point")))
        .map(|r| num(&r[column]))
        .collect();
    assert!(!v.is_empty());
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn response_figures_show_means_over_replicates_by_axis_value_and_a_heatmap_by_two() {
    let f = fixture();
    let image = plot(
        &f.sweep,
        &["--x", "enterprise.switch_cost_base", "--metric", "hhi_model"],
        "response.png",
    );
    png_size(&image);
    let rows = exported(&image);
    // Two lines (one per egress fee) × two switching costs.
    assert_eq!(rows.len(), 4);
    for r in &rows {
        let fee = r["series"]
            .strip_prefix("egress_fee=")
            .expect("series by the other axis");
        let mean = runs_mean(f, "final_hhi_model", |p| {
            p["enterprise.switch_cost_base"] == r["x"] && p["providers.*.egress_fee"] == fee
        });
        assert!((num(&r["y"]) - mean).abs() <= 1e-9 * mean.abs(), "{r:?} vs {mean}");
        assert!(num(&r["y_low"]) < num(&r["y"]) && num(&r["y"]) < num(&r["y_high"]));
    }
    // The time average, by the short name of the axis.
    let avg = plot(
        &f.sweep,
        &["--x", "egress_fee", "--window", "average", "--metric", "switching_rate"],
        "response_avg.svg",
    );
    for r in &exported(&avg) {
        let cost = r["series"].strip_prefix("switch_cost_base=").expect("series");
        let mean = runs_mean(f, "mean_switching_rate", |p| {
            p["providers.*.egress_fee"] == r["x"] && p["enterprise.switch_cost_base"] == cost
        });
        assert!((num(&r["y"]) - mean).abs() <= 1e-9 * mean.abs());
    }
    // Two axes: a heatmap of the cell means.
    let heat = plot(
        &f.sweep,
        &[
            "--x",
            "switch_cost_base",
            "--y",
            "egress_fee",
            "--metric",
            "hhi_cloud",
            "cr1_model",
        ],
        "heat.png",
    );
    png_size(&heat);
    let rows = exported(&heat);
    assert_eq!(rows.len(), 2 * 4);
    for r in &rows {
        let fee = r["series"].strip_prefix("providers.*.egress_fee=").expect("row axis");
        let mean = runs_mean(f, &format!("final_{}", r["panel"]), |p| {
            p["enterprise.switch_cost_base"] == r["x"] && p["providers.*.egress_fee"] == fee
        });
        assert!((num(&r["y"]) - mean).abs() <= 1e-9 * mean.abs(), "{r:?}");
    }
}

#[test]
fn default_output_goes_into_the_directory() {
    let f = fixture();
    let o = aimarket(&["plot", f.run.to_str().expect("utf-8")], &[]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("figure_run.png"));
    png_size(&f.run.join("figure_run.png"));
    assert!(f.run.join("figure_run.png.csv").is_file());
    assert!(
        !dir_entries(&f.run).iter().any(|e| e.starts_with('.')),
        "no temporary left"
    );
}

#[test]
fn bad_inputs_exit_2_saying_why_and_write_nothing() {
    let f = fixture();
    let empty = f.root.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let figures = f.root.join("bad");
    let out = figures.join("x.png");
    let o = |dir: &Path, args: &[&str]| {
        aimarket(
            &[
                &[
                    "plot",
                    dir.to_str().expect("utf-8"),
                    "--out",
                    out.to_str().expect("utf-8"),
                ][..],
                args,
            ]
            .concat(),
            &[],
        )
    };
    let cases: Vec<(std::process::Output, &[&str])> = vec![
        (
            o(&empty, &[]),
            &[
                "not an aimarket output directory",
                "metrics.csv",
                "summary.csv",
                "comparison.csv",
            ],
        ),
        (o(&f.root.join("missing"), &[]), &["no such directory"]),
        (
            o(&f.run, &["--metric", "hhi_clouds"]),
            &["unknown metric \"hhi_clouds\"", "valid metrics: hhi_cloud, cr1_cloud"],
        ),
        (o(&f.sweep, &["--metric", "hhi_clouds"]), &["valid metrics"]),
        (
            o(&f.compare, &["--metric", "rent.nobody"]),
            &["rent.nobody", "valid quantities", "rent.azure"],
        ),
        (
            o(&f.sweep, &["--x", "enterprise.review_probability"]),
            &["was not swept", "enterprise.switch_cost_base, providers.*.egress_fee"],
        ),
        (
            o(&f.sweep, &["--x", "switch_cost_base", "--y", "switch_cost_base"]),
            &["same axis"],
        ),
        (o(&f.sweep, &["--y", "egress_fee"]), &["--y needs --x"]),
        (o(&f.run, &["--x", "egress_fee"]), &["sweep directory", "run directory"]),
        (
            o(&f.run, &["--window", "average"]),
            &["--window applies to response plots"],
        ),
        (
            o(&f.compare_plain, &[]),
            &["without trajectories.csv", "--trajectories"],
        ),
        (
            aimarket(&["plot", f.run.to_str().expect("utf-8"), "--out", "x.pdf"], &[]),
            &[".png or .svg"],
        ),
    ];
    for (out, expected) in &cases {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        for e in *expected {
            assert!(err.contains(e), "{e:?} in {err}");
        }
    }
    assert!(!figures.exists(), "nothing written");
    assert!(!crate::common::repo("x.pdf").exists());
}
