//! `aimarket backtest BACKTEST`: runs the replicates of a history config with the estimates of a
//! calibration applied, compares them with the record in and out of the calibration window, and
//! writes the fit per observation (`backtest.csv`), the summary per series and window
//! (`summary.csv`), both as markdown (`backtest.md`, the tables of docs/VALIDATION.md), the figure
//! of simulated against observed paths (`figure_backtest.png` and its numbers
//! `figure_backtest.csv`) and a manifest, each atomically, the manifest last.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::CommandError;
use super::progress::run_observed;
use crate::batch::Job;
use crate::calibrate::backtest::{Backtest, Fit, Observation, fit};
use crate::calibrate::spec::{Series, Statistic};
use crate::config;
use crate::output::atomic::write_atomic;
use crate::output::format_number;
use crate::output::plot::draw::render;
use crate::output::plot::{BLACK, Colour, Content, Figure, OKABE_ITO, Panel, Point, XAxis};
use crate::sim::MetricsRecorder;
use crate::stats::{summarise, t975};

/// A validated `backtest`.
#[derive(Debug, Clone)]
pub struct BacktestPlan {
    /// The validated backtest file.
    pub backtest: Box<Backtest>,
    /// Output directory.
    pub out: PathBuf,
    /// Worker threads (None: all cores).
    pub threads: Option<usize>,
    /// Show a progress bar.
    pub progress: bool,
    /// Print the summary table.
    pub report: bool,
}

/// Default output directory: `outputs/backtests/<file stem>`.
pub fn default_out(file: &std::path::Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backtest".to_string());
    std::path::Path::new("outputs").join("backtests").join(stem)
}

/// Runs every replicate; the recorders in replicate order.
fn run_all(plan: &BacktestPlan) -> Result<Vec<MetricsRecorder>, CommandError> {
    let bt = &plan.backtest;
    let jobs: Vec<Job> = (0..bt.replicates)
        .map(|r| Job {
            config: bt.config_of(r),
        })
        .collect();
    run_observed(&jobs, plan.threads, plan.progress)
}

/// One summary row: the observations of one series in one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The series' name.
    pub series: String,
    /// "in" or "out".
    pub sample: &'static str,
    /// Observations.
    pub n: usize,
    /// Observations covered by the prediction interval.
    pub covered: usize,
    /// Mean signed error (bias).
    pub mean_error: f64,
    /// Root mean squared error.
    pub rmse: f64,
}

/// The summary per series and sample, series in order of first appearance, in before out.
pub fn summary(observations: &[Observation], fits: &[Fit]) -> Vec<SummaryRow> {
    let mut names: Vec<String> = Vec::new();
    for o in observations {
        let n = o.series.name();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let mut rows = Vec::new();
    for name in names {
        for (sample, in_sample) in [("in", true), ("out", false)] {
            let errors: Vec<(f64, bool)> = observations
                .iter()
                .zip(fits)
                .filter(|(o, _)| o.series.name() == name && o.in_sample == in_sample)
                .map(|(_, f)| (f.error, f.covered))
                .collect();
            if errors.is_empty() {
                continue;
            }
            let n = errors.len();
            rows.push(SummaryRow {
                series: name.clone(),
                sample,
                n,
                covered: errors.iter().filter(|(_, c)| *c).count(),
                mean_error: errors.iter().map(|(e, _)| e).sum::<f64>() / n as f64,
                rmse: (errors.iter().map(|(e, _)| e * e).sum::<f64>() / n as f64).sqrt(),
            });
        }
    }
    rows
}

/// A number for the tables: three decimals below 1, three significant figures from 1 to 100,
/// whole numbers above.
fn short(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The observed value or range as text.
fn observed_text(o: &Observation) -> String {
    match (o.value, o.low, o.high) {
        (Some(v), Some(lo), Some(hi)) => format!("{} ({}–{})", short(v), short(lo), short(hi)),
        (None, Some(lo), Some(hi)) => format!("{}–{}", short(lo), short(hi)),
        (Some(v), _, _) => short(v),
        _ => "–".to_string(),
    }
}

fn window_text(o: &Observation) -> String {
    if o.from == o.to {
        o.from.to_string()
    } else {
        format!("{} … {}", o.from, o.to)
    }
}

/// The markdown of the report: the summary and the per-observation table.
pub fn markdown(bt: &Backtest, fits: &[Fit], rows: &[SummaryRow], plan_line: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{plan_line}\n");
    out.push_str("| series | sample | observations | covered by the 95 % prediction interval | mean error | RMSE |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} of {} | {} | {} |",
            r.series,
            if r.sample == "in" { "in sample" } else { "out of sample" },
            r.n,
            r.covered,
            r.n,
            short(r.mean_error),
            short(r.rmse)
        );
    }
    out.push('\n');
    out.push_str("| series | window | sample | observed | simulated mean [95 % CI] | 95 % prediction interval | error | covered | source |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for (o, f) in bt.observations.iter().zip(fits) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} [{}, {}] | {} … {} | {} | {} | {} |",
            o.series.name(),
            window_text(o),
            o.sample(),
            observed_text(o),
            short(f.mean),
            short(f.ci.0),
            short(f.ci.1),
            short(f.band.0),
            short(f.band.1),
            short(f.error),
            if f.covered { "yes" } else { "**no**" },
            o.source
        );
    }
    out
}

fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map(format_number).unwrap_or_default()
}

/// `backtest.csv`: one row per observation.
fn observations_csv(bt: &Backtest, fits: &[Fit]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "series",
        "from",
        "to",
        "statistic",
        "sample",
        "observed",
        "observed_low",
        "observed_high",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "band_low",
        "band_high",
        "error",
        "covered",
        "source",
    ])
    .map_err(|e| e.to_string())?;
    for (o, f) in bt.observations.iter().zip(fits) {
        w.write_record([
            o.series.name(),
            o.from.to_string(),
            o.to.to_string(),
            o.statistic.name().to_string(),
            o.sample().to_string(),
            num(o.value),
            num(o.low),
            num(o.high),
            f.n.to_string(),
            num(Some(f.mean)),
            num(Some(f.sd)),
            num(Some(f.ci.0)),
            num(Some(f.ci.1)),
            num(Some(f.band.0)),
            num(Some(f.band.1)),
            num(Some(f.error)),
            f.covered.to_string(),
            o.source.clone(),
        ])
        .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// `summary.csv`: one row per series and sample.
fn summary_csv(rows: &[SummaryRow]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["series", "sample", "observations", "covered", "mean_error", "rmse"])
        .map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record([
            r.series.clone(),
            r.sample.to_string(),
            r.n.to_string(),
            r.covered.to_string(),
            format_number(r.mean_error),
            format_number(r.rmse),
        ])
        .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// Grey of the calibration-end marker.
const GREY: Colour = Colour(0x99, 0x99, 0x99);

/// A gap between points, so that each observation is drawn on its own (a marker and its range).
fn gap(x: f64) -> Point {
    Point {
        x,
        y: f64::NAN,
        low: None,
        high: None,
    }
}

/// The figure: per series, the replicates' monthly mean with its 95 % prediction band, the
/// observed levels (statistics mean, first, last) with their ranges, and a vertical line at the
/// end of the calibration window. Changes and slopes are not levels and are left to the tables.
pub fn figure(bt: &Backtest, runs: &[MetricsRecorder]) -> Figure {
    let start = config::Month::parse(&bt.base.run.start).expect("validated start");
    let end_x = bt.calibration_end.ticks_since(start) as f64;
    let ticks = bt.base.run.ticks as usize;
    let n = runs.len();
    let t = t975(n.saturating_sub(1));
    let series: Vec<Series> = bt.series();
    let panels: Vec<Panel> = series
        .iter()
        .map(|s| {
            let paths: Vec<Vec<f64>> = runs.iter().map(|r| s.of(r)).collect();
            let simulated: Vec<Point> = (0..ticks)
                .map(|k| {
                    let values: Vec<f64> = paths.iter().map(|p| p.get(k).copied().unwrap_or(f64::NAN)).collect();
                    let sm = summarise(&values, t);
                    let mean = sm.mean.unwrap_or(f64::NAN);
                    let half = sm.sd.map(|sd| t * sd * (1.0 + 1.0 / n as f64).sqrt());
                    Point {
                        x: k as f64,
                        y: mean,
                        low: half.map(|h| mean - h),
                        high: half.map(|h| mean + h),
                    }
                })
                .collect();
            let mut observed = Vec::new();
            // Changes and slopes are not levels: they are in the tables, not on the panel.
            let levels = bt.observations.iter().filter(|o| {
                &o.series == s && matches!(o.statistic, Statistic::Mean | Statistic::First | Statistic::Last)
            });
            for o in levels {
                let x = (o.first_tick + o.last_tick) as f64 / 2.0;
                let (lo, hi) = o.interval();
                let ranged = o.low.is_some();
                observed.push(gap(x - 0.5));
                observed.push(Point {
                    x,
                    y: o.value.unwrap_or((lo + hi) / 2.0),
                    low: ranged.then_some(lo),
                    high: ranged.then_some(hi),
                });
                observed.push(gap(x + 0.5));
            }
            // The marker spans the panel's values: simulated band and observations.
            let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
            for p in simulated.iter().chain(&observed) {
                for v in [Some(p.y), p.low, p.high].into_iter().flatten() {
                    if v.is_finite() {
                        ymin = ymin.min(v);
                        ymax = ymax.max(v);
                    }
                }
            }
            let marker = if ymin.is_finite() {
                vec![
                    Point {
                        x: end_x,
                        y: ymin,
                        low: None,
                        high: None,
                    },
                    Point {
                        x: end_x,
                        y: ymax,
                        low: None,
                        high: None,
                    },
                ]
            } else {
                Vec::new()
            };
            let name = s.name();
            Panel {
                id: name.clone(),
                title: name,
                y_label: String::new(),
                content: Content::Lines {
                    x: XAxis::Months { start },
                    series: vec![
                        crate::output::plot::Series {
                            name: "calibration end".to_string(),
                            colour: GREY,
                            points: marker,
                        },
                        crate::output::plot::Series {
                            name: "simulated".to_string(),
                            colour: OKABE_ITO[0],
                            points: simulated,
                        },
                        crate::output::plot::Series {
                            name: "observed".to_string(),
                            colour: BLACK,
                            points: observed,
                        },
                    ],
                    zero_line: false,
                },
            }
        })
        .collect();
    let cols = if panels.len() > 4 { 3 } else { panels.len().clamp(1, 2) };
    let rows = panels.len().div_ceil(cols);
    Figure {
        title: format!("Backtest: {} against the record", bt.base_label),
        note: format!(
            "{} replicates × {} enterprises; band: 95 % prediction interval of one replicate; calibrated on months up to {} (grey line), out of sample after; observed levels only (changes are in backtest.md)",
            n, bt.base.run.enterprises, bt.calibration_end
        ),
        rows,
        cols,
        panels,
        legend: vec![
            ("simulated mean and 95 % prediction band".to_string(), OKABE_ITO[0]),
            ("observed (with its range)".to_string(), BLACK),
            (format!("end of the calibration window ({})", bt.calibration_end), GREY),
        ],
    }
}

/// Runs the backtest and writes its outputs.
pub fn execute(plan: &BacktestPlan) -> Result<(), CommandError> {
    let bt = &plan.backtest;
    let runs = run_all(plan)?;
    let fits: Vec<Fit> = bt
        .observations
        .iter()
        .map(|o| {
            let values: Vec<f64> = runs.iter().map(|r| o.of(r)).collect();
            fit(&values, o.interval())
        })
        .collect();
    let rows = summary(&bt.observations, &fits);
    let set_text = if bt.set.is_empty() {
        "nothing".to_string()
    } else {
        bt.set
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let plan_line = format!(
        "Generated by `aimarket backtest {}`: {} replicates of {} (seed {}), {} months from {}, with {}; in sample up to {}, out of sample after.",
        bt.file.display(),
        bt.replicates,
        bt.base_label,
        bt.seed,
        bt.base.run.ticks,
        bt.base.run.start,
        set_text,
        bt.calibration_end
    );
    let md = markdown(bt, &fits, &rows, &plan_line);
    let obs_csv = observations_csv(bt, &fits).map_err(CommandError::failed)?;
    let sum_csv = summary_csv(&rows).map_err(CommandError::failed)?;
    let fig = figure(bt, &runs);
    let fig_csv = fig.to_csv().map_err(CommandError::failed)?;
    let out = &plan.out;
    std::fs::create_dir_all(out).map_err(|e| CommandError::failed(format!("{}: cannot create: {e}", out.display())))?;
    let write = |name: &str, bytes: &[u8]| {
        write_atomic(out, name, bytes)
            .map_err(|e| CommandError::failed(format!("{}: cannot write {name}: {e}", out.display())))
    };
    write("backtest.csv", &obs_csv)?;
    write("summary.csv", &sum_csv)?;
    write("backtest.md", md.as_bytes())?;
    write("figure_backtest.csv", &fig_csv)?;
    render(&fig, &out.join("figure_backtest.png"), fig.default_size()).map_err(CommandError::failed)?;
    let seeds: Vec<u64> = (0..bt.replicates).map(|r| bt.replicate_seed(r)).collect();
    let manifest = serde_json::json!({
        "command": "backtest",
        "aimarket_version": env!("CARGO_PKG_VERSION"),
        "backtest_file": bt.file.display().to_string(),
        "backtest_hash": bt.file_hash,
        "base": bt.base_path.display().to_string(),
        "config_hash": config::hash(&bt.base),
        "set": bt.set.iter().map(|(k, v)| (k.clone(), serde_json::json!(v.to_string()))).collect::<serde_json::Map<_, _>>(),
        "replicates": bt.replicates,
        "seed": bt.seed,
        "replicate_seeds": seeds,
        "seed_rule": "replicate r has the seed derive_seed(seed, 0, r) (src/sim/rng.rs)",
        "enterprises": bt.base.run.enterprises,
        "calibration_end": bt.calibration_end.to_string(),
        "observations": bt.observations.len(),
        "files": ["backtest.csv", "summary.csv", "backtest.md", "figure_backtest.png", "figure_backtest.csv"],
    });
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(CommandError::failed)?;
    write("manifest.json", &bytes)?;
    if plan.report {
        let head = md.split("\n\n").take(2).collect::<Vec<_>>().join("\n\n");
        println!("{head}");
        let covered_out: usize = rows.iter().filter(|r| r.sample == "out").map(|r| r.covered).sum();
        let n_out: usize = rows.iter().filter(|r| r.sample == "out").map(|r| r.n).sum();
        println!(
            "\n{covered_out} of {n_out} out-of-sample observations inside the 95 % prediction interval; wrote {}",
            out.display()
        );
    }
    Ok(())
}
