//! Comparing scenarios against a base with common random numbers.
//!
//! `aimarket compare BASE SCENARIO...` runs the base and every scenario `--replicates` times.
//! Replicate r of every config uses the same seed, `derive_seed(master, 0, r)`, so the same
//! enterprises make the same draws and the paired difference scenario − base isolates the
//! scenario's effect. For each scenario and quantity (HHI of the four markets, switching rates,
//! infrastructure rent in total and per provider, lab dependency) it reports the mean paired
//! difference of the final value and of the time average, with a 95 % Student-t confidence
//! interval, prints a table and writes `comparison.csv` and `manifest.json` atomically.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::stats::{Paired, paired};
use serde::Serialize;

use super::CommandError;
use super::progress::{bar, interrupt_flag};
use crate::batch::{self, Job};
use crate::config::{self, Config, Market, Metric};
use crate::output::atomic::write_atomic;
use crate::output::format_number;
use crate::sim::MetricsRecorder;
use crate::sim::rng::derive_seed;

/// Run-level series compared besides the four HHIs.
pub const COMPARED_SERIES: [Metric; 7] = [
    Metric::SwitchingRate,
    Metric::ProviderSwitchingRate,
    Metric::MigrationRate,
    Metric::DirectApiShare,
    Metric::MeanComputePrice,
    Metric::InfrastructureRent,
    Metric::MeanLabDependency,
];

/// A compared quantity: a `metrics.csv` column or one provider's rent share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quantity {
    /// A run-level metric.
    Metric(Metric),
    /// A provider's share of enterprise AI spend ending as its revenue (`rent.<provider>`).
    Rent(String),
}

impl Quantity {
    /// Name as written in tables and `comparison.csv`.
    pub fn label(&self) -> String {
        match self {
            Quantity::Metric(m) => m.name().to_string(),
            Quantity::Rent(p) => format!("rent.{p}"),
        }
    }

    /// The per-tick series of this quantity in a recorded run (a provider absent from the run
    /// has a rent of 0).
    pub fn series(&self, rec: &MetricsRecorder) -> Vec<f64> {
        match self {
            Quantity::Metric(m) => rec.rows.iter().map(|r| r[*m]).collect(),
            Quantity::Rent(p) => match rec.providers.iter().position(|x| x == p) {
                Some(i) => rec.rent.iter().map(|r| r.get(i).copied().unwrap_or(0.0)).collect(),
                None => vec![0.0; rec.rent.len()],
            },
        }
    }
}

/// Which summary of a run's series is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The value at the last tick.
    Final,
    /// The mean over all ticks.
    Average,
}

impl Window {
    /// Name as written in `comparison.csv`.
    pub fn label(self) -> &'static str {
        match self {
            Window::Final => "final",
            Window::Average => "average",
        }
    }
}

/// A run's summary of one quantity.
pub fn summarise(rec: &MetricsRecorder, q: &Quantity, w: Window) -> f64 {
    let s = q.series(rec);
    match w {
        Window::Final => s.last().copied().unwrap_or(f64::NAN),
        Window::Average if s.is_empty() => f64::NAN,
        Window::Average => s.iter().sum::<f64>() / s.len() as f64,
    }
}

/// One line of the comparison.
#[derive(Debug, Clone)]
pub struct Row {
    /// Scenario label (file stem).
    pub scenario: String,
    /// Quantity compared.
    pub quantity: Quantity,
    /// Final value or time average.
    pub window: Window,
    /// The paired statistics.
    pub stats: Paired,
}

/// The quantities compared for runs whose providers are `providers`.
pub fn quantities(providers: &[String]) -> Vec<Quantity> {
    let mut q: Vec<Quantity> = Market::all().map(|m| Quantity::Metric(Metric::hhi(m))).collect();
    q.extend(COMPARED_SERIES.iter().map(|&s| Quantity::Metric(s)));
    q.extend(providers.iter().map(|p| Quantity::Rent(p.clone())));
    q
}

/// Compares paired runs (`base[r]` with `scenario[r]`) on every quantity and window.
pub fn compare_runs(
    label: &str,
    base: &[&MetricsRecorder],
    scenario: &[&MetricsRecorder],
    quantities: &[Quantity],
) -> Vec<Row> {
    let mut rows = Vec::new();
    for q in quantities {
        for w in [Window::Final, Window::Average] {
            let b: Vec<f64> = base.iter().map(|r| summarise(r, q, w)).collect();
            let s: Vec<f64> = scenario.iter().map(|r| summarise(r, q, w)).collect();
            rows.push(Row {
                scenario: label.to_string(),
                quantity: q.clone(),
                window: w,
                stats: paired(&b, &s),
            });
        }
    }
    rows
}

/// A run that did not finish.
#[derive(Debug, Clone, Serialize)]
struct FailedRun {
    config: String,
    replicate: u32,
    seed: u64,
    error: String,
}

#[derive(Debug, Serialize)]
struct ConfigEntry {
    label: String,
    path: String,
    hash: String,
}

#[derive(Debug, Serialize)]
struct Manifest {
    command: &'static str,
    aimarket_version: &'static str,
    base: ConfigEntry,
    scenarios: Vec<ConfigEntry>,
    master_seed: u64,
    seeds: Vec<u64>,
    replicates: u32,
    enterprises: u32,
    ticks: u32,
    start: String,
    runs: usize,
    failed: Vec<FailedRun>,
    files: Vec<&'static str>,
    wall_seconds: f64,
}

fn label_of(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned())
}

/// One config taking part in a comparison.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The file as given.
    pub path: PathBuf,
    /// Label in tables (file stem; the path when two stems clash).
    pub label: String,
    /// The resolved config.
    pub config: Config,
}

/// A validated `compare`: the base first, then the scenarios, all covering the same months.
#[derive(Debug, Clone)]
pub struct ComparePlan {
    /// The base (index 0) and the scenarios.
    pub configs: Vec<Compared>,
    /// Replicates per config (≥ 1).
    pub replicates: u32,
    /// Master seed from which replicate seeds are derived.
    pub master_seed: u64,
    /// Output directory.
    pub out: PathBuf,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Draw a progress bar.
    pub progress: bool,
    /// Print the closing summary line.
    pub report: bool,
}

impl ComparePlan {
    /// The configs of a comparison from files: loads every config with `overrides`, checks that the
    /// scenarios cover the base's months, and labels them. Nothing runs.
    pub fn load_configs(
        base: &Path,
        scenarios: &[PathBuf],
        overrides: &[String],
        replicates: u32,
    ) -> Result<Vec<Compared>, CommandError> {
        if replicates == 0 {
            return Err(CommandError::input("--replicates must be at least 1, got 0"));
        }
        let base_config = config::load(base, overrides).map_err(CommandError::input)?;
        let mut configs = vec![Compared {
            path: base.to_path_buf(),
            label: label_of(base),
            config: base_config.clone(),
        }];
        for path in scenarios {
            let c = config::load(path, overrides).map_err(CommandError::input)?;
            if c.run.start != base_config.run.start || c.run.ticks != base_config.run.ticks {
                return Err(CommandError::input(format!(
                    "{}: run.start/run.ticks are {}/{}, expected the base's {}/{}: compared runs must cover the same months",
                    path.display(),
                    c.run.start,
                    c.run.ticks,
                    base_config.run.start,
                    base_config.run.ticks
                )));
            }
            let mut label = label_of(path);
            if configs.iter().any(|x| x.label == label) {
                label = path.display().to_string();
            }
            configs.push(Compared {
                path: path.clone(),
                label,
                config: c,
            });
        }
        Ok(configs)
    }
}

/// Runs `aimarket compare`.
pub fn execute(plan: &ComparePlan) -> Result<(), CommandError> {
    let started = Instant::now();
    let configs = &plan.configs;
    let base = &configs[0].config;
    let pool = batch::pool(plan.threads).map_err(CommandError::input)?;
    let master = plan.master_seed;
    let seeds: Vec<u64> = (0..plan.replicates)
        .map(|r| derive_seed(master, 0, u64::from(r)))
        .collect();
    let jobs: Vec<Job> = configs
        .iter()
        .flat_map(|c| {
            seeds.iter().map(move |&seed| {
                let mut config = c.config.clone();
                config.run.seed = seed;
                Job { config }
            })
        })
        .collect();

    let bar = bar(plan.progress, jobs.len() as u64, "runs");
    let stop = interrupt_flag();
    let stop_ref: &AtomicBool = &stop;
    let results = batch::run_all(&pool, &jobs, stop_ref, &|| {
        if let Some(b) = &bar {
            b.inc(1);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if stop.load(Ordering::SeqCst) {
        return Err(CommandError::Interrupted("interrupted; nothing was written".into()));
    }

    let n = plan.replicates as usize;
    let mut failed = Vec::new();
    for (i, result) in results.iter().enumerate() {
        if let Err(e) = result {
            let (c, r) = (i / n, i % n);
            let f = FailedRun {
                config: configs[c].path.display().to_string(),
                replicate: r as u32,
                seed: seeds[r],
                error: e.clone(),
            };
            eprintln!(
                "error: run failed: {} replicate {} (seed {}): {}",
                f.config, f.replicate, f.seed, f.error
            );
            failed.push(f);
        }
    }

    let mut rows = Vec::new();
    for (s, compared) in configs.iter().enumerate().skip(1) {
        let (label, c) = (&compared.label, &compared.config);
        // Rents of the base's providers and of any provider the scenario adds.
        let mut providers: Vec<String> = base.providers.keys().cloned().collect();
        providers.extend(c.providers.keys().filter(|p| !base.providers.contains_key(*p)).cloned());
        let quantities = quantities(&providers);
        let mut b = Vec::new();
        let mut sc = Vec::new();
        for r in 0..n {
            if let (Ok(x), Ok(y)) = (&results[r], &results[s * n + r]) {
                b.push(&x.recorded);
                sc.push(&y.recorded);
            }
        }
        if b.is_empty() {
            eprintln!("error: {label}: no replicate finished for both base and scenario; it is left out of the table");
            continue;
        }
        rows.extend(compare_runs(label, &b, &sc, &quantities));
    }

    let table = format!(
        "compare: {} scenario(s) against {} — {} replicates × {} enterprises × {} months from {}, master seed {master}\n{}",
        configs.len() - 1,
        configs[0].path.display(),
        plan.replicates,
        base.run.enterprises,
        base.run.ticks,
        base.run.start,
        render_table(&rows)
    );
    // A closed pipe (`| head`) must not stop the files from being written.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), table.as_bytes());

    let out = &plan.out;
    std::fs::create_dir_all(out)
        .map_err(|e| CommandError::failed(format!("{}: cannot be created: {e}", out.display())))?;
    let csv = comparison_csv(&rows).map_err(|e| CommandError::failed(format!("comparison.csv: {e}")))?;
    let csv_path = write_atomic(out, "comparison.csv", &csv)
        .map_err(|e| CommandError::failed(format!("{}: {e}", out.display())))?;
    let entry = |c: &Compared| ConfigEntry {
        label: c.label.clone(),
        path: c.path.display().to_string(),
        hash: config::hash(&c.config),
    };
    let manifest = Manifest {
        command: "compare",
        aimarket_version: env!("CARGO_PKG_VERSION"),
        base: entry(&configs[0]),
        scenarios: configs[1..].iter().map(entry).collect(),
        master_seed: master,
        seeds: seeds.clone(),
        replicates: plan.replicates,
        enterprises: base.run.enterprises,
        ticks: base.run.ticks,
        start: base.run.start.clone(),
        runs: jobs.len(),
        failed: failed.clone(),
        files: vec!["comparison.csv"],
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| CommandError::failed(format!("manifest.json: {e}")))?;
    write_atomic(out, "manifest.json", &json).map_err(|e| CommandError::failed(format!("{}: {e}", out.display())))?;
    if plan.report {
        eprintln!(
            "{} runs in {:.1} s; wrote {} and manifest.json",
            jobs.len(),
            started.elapsed().as_secs_f64(),
            csv_path.display()
        );
    }
    if !failed.is_empty() {
        return Err(CommandError::failed(format!(
            "{} of {} runs failed (listed above); the table uses only replicates where base and scenario both finished",
            failed.len(),
            jobs.len()
        )));
    }
    Ok(())
}

/// A number for the printed table with `decimals` places (`n/a` if not finite).
fn short(v: f64, decimals: usize, sign: bool) -> String {
    match (v.is_finite(), sign) {
        (false, _) => "n/a".into(),
        (true, true) => format!("{v:+.decimals$}"),
        (true, false) => format!("{v:.decimals$}"),
    }
}

/// Decimal places per quantity: HHI points to 0.1, prices to 0.001 $/GPU-h, shares and rates to
/// 0.00001 (a thousandth of a percentage point).
fn decimals(q: &Quantity) -> usize {
    match q {
        Quantity::Metric(m) if m.name().starts_with("hhi_") => 1,
        Quantity::Metric(Metric::MeanComputePrice) => 3,
        _ => 5,
    }
}

fn delta_cell(p: &Paired, d: usize) -> String {
    let ci = if p.ci_low.is_finite() {
        format!(" [{}, {}]", short(p.ci_low, d, false), short(p.ci_high, d, false))
    } else {
        String::new()
    };
    format!(
        "{}{ci}{}",
        short(p.delta, d, true),
        if p.significant() { " *" } else { "" }
    )
}

/// The printed table: per scenario and quantity, the base's time average and the paired
/// change of the time average and of the final value (`*`: the 95 % CI excludes 0).
pub fn render_table(rows: &[Row]) -> String {
    let mut lines: Vec<[String; 5]> = vec![[
        "scenario".into(),
        "quantity".into(),
        "base (avg)".into(),
        "Δ average [95% CI]".into(),
        "Δ final [95% CI]".into(),
    ]];
    for pair in rows.chunks(2) {
        let [fin, avg] = pair else { continue };
        let d = decimals(&fin.quantity);
        lines.push([
            fin.scenario.clone(),
            fin.quantity.label(),
            short(avg.stats.base_mean, d, false),
            delta_cell(&avg.stats, d),
            delta_cell(&fin.stats, d),
        ]);
    }
    let mut widths = [0usize; 5];
    for l in &lines {
        for (w, c) in widths.iter_mut().zip(l) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut last = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 && l[0] != last {
            out.push('\n');
        }
        last = l[0].clone();
        let mut line = String::new();
        for (j, (c, w)) in l.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if j == 2 {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str("\n* the 95% confidence interval of the paired difference (scenario − base) excludes 0\n");
    out
}

/// `comparison.csv`: one row per scenario, quantity and window.
pub fn comparison_csv(rows: &[Row]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scenario",
        "quantity",
        "window",
        "replicates",
        "base_mean",
        "scenario_mean",
        "delta",
        "ci_low",
        "ci_high",
        "significant",
    ])
    .map_err(|e| e.to_string())?;
    let num = |v: f64| if v.is_finite() { format_number(v) } else { String::new() };
    for r in rows {
        let p = &r.stats;
        w.write_record([
            r.scenario.clone(),
            r.quantity.label(),
            r.window.label().to_string(),
            p.n.to_string(),
            num(p.base_mean),
            num(p.scenario_mean),
            num(p.delta),
            num(p.ci_low),
            num(p.ci_high),
            p.significant().to_string(),
        ])
        .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_providers_have_zero_rent() {
        let rec = MetricsRecorder {
            rows: vec![crate::config::MetricValues::default(); 2],
            rent: vec![vec![0.1], vec![0.3]],
            providers: vec!["aws".into()],
        };
        assert!((summarise(&rec, &Quantity::Rent("aws".into()), Window::Average) - 0.2).abs() < 1e-12);
        assert_eq!(summarise(&rec, &Quantity::Rent("stargate".into()), Window::Final), 0.0);
    }
}
