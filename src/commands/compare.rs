//! Comparing scenarios against a base with common random numbers.
//!
//! `aimarket compare BASE SCENARIO...` runs the base and every scenario `--replicates` times.
//! Replicate r of every config uses the same seed, `derive_seed(master, 0, r)`, so the same
//! enterprises make the same draws and the paired difference scenario − base isolates the
//! scenario's effect. For each scenario and quantity (every `metrics.csv` series of
//! [`Metric::all`], surplus and welfare converted at the base's marginal utility of money
//! ([`AtBase`]), each provider's infrastructure rent and each owner's profit) it reports the mean paired difference
//! of the final value and of the time average, with a 95 % Student-t confidence interval, prints
//! a table (a readable subset of the quantities) and writes `comparison.csv`, `replicates.csv`,
//! optionally `trajectories.csv` (every month) and `manifest.json`, each atomically.
//!
//! Besides scenario files, `--scenario-set KEY=VALUE...` defines one more scenario: the base with
//! those overrides, labelled `set:<k=v,...>`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::stats::{Paired, paired, summarise as replicate_summary, t975};
use serde::Serialize;

use super::CommandError;
use super::progress::{bar, interrupt_flag};
use crate::batch::{self, Job};
use crate::config::{self, Config, Market, Metric, Month};
use crate::econ::surplus;
use crate::output::atomic::write_atomic;
use crate::output::format_number;
use crate::sim::rng::{derive_seed, seed_hex};
use crate::sim::run::Calibration;
use crate::sim::{MetricsRecorder, Simulation};
use rayon::prelude::*;

/// Run-level series printed in the table besides the four HHIs and the provider rents (every
/// metric is compared and written to the CSV files; the table keeps this readable subset).
pub const TABLE_SERIES: [Metric; 14] = [
    Metric::SwitchingRate,
    Metric::ProviderSwitchingRate,
    Metric::MigrationRate,
    Metric::DirectApiShare,
    Metric::MeanComputePrice,
    Metric::MeanComputeLerner,
    Metric::InfrastructureRent,
    Metric::MeanLabDependency,
    Metric::ConsumerSurplusAiMusd,
    Metric::ProviderProfitMusd,
    Metric::LabProfitMusd,
    Metric::TotalWelfareMusd,
    Metric::MeanCloudPriceIndex,
    Metric::CloudWelfareMusd,
];

/// A surplus or welfare series whose consumer surplus is converted to money at the base run's
/// own marginal utility of money of each month (`econ::surplus::at_marginal_utility`), so that
/// its paired change is the change at the base's prices. `metrics.csv`'s own surplus uses a
/// reference that drifts from it as prices move away from the cost trend (docs/MODEL.md 7.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtBase {
    /// AI consumer surplus (`consumer_surplus_ai_at_base_musd`).
    AiSurplus,
    /// AI consumer surplus at the base's λ + providers' and labs' profit (`total_welfare_at_base_musd`).
    AiWelfare,
    /// General-cloud consumer surplus (`consumer_surplus_cloud_at_base_musd`).
    CloudSurplus,
    /// General-cloud consumer surplus at the base's λ + general-cloud profit (`cloud_welfare_at_base_musd`).
    CloudWelfare,
}

impl AtBase {
    /// All four, in output order.
    pub const ALL: [AtBase; 4] = [
        AtBase::AiSurplus,
        AtBase::AiWelfare,
        AtBase::CloudSurplus,
        AtBase::CloudWelfare,
    ];

    /// Name as written in tables and `comparison.csv`.
    pub fn label(self) -> &'static str {
        match self {
            AtBase::AiSurplus => "consumer_surplus_ai_at_base_musd",
            AtBase::AiWelfare => "total_welfare_at_base_musd",
            AtBase::CloudSurplus => "consumer_surplus_cloud_at_base_musd",
            AtBase::CloudWelfare => "cloud_welfare_at_base_musd",
        }
    }

    /// The series of `rec` converted at `base`'s marginal utility of money, month by month
    /// (`base` = `rec` gives the run's surplus at its own prices).
    pub fn series(self, rec: &MetricsRecorder, base: &MetricsRecorder) -> Vec<f64> {
        let ai = matches!(self, AtBase::AiSurplus | AtBase::AiWelfare);
        let (cs, ratio, mu) = if ai {
            (
                Metric::ConsumerSurplusAiMusd,
                Metric::AiSurplusReferenceRatio,
                Metric::AiMarginalUtilityOfMoney,
            )
        } else {
            (
                Metric::ConsumerSurplusCloudMusd,
                Metric::CloudSurplusReferenceRatio,
                Metric::CloudMarginalUtilityOfMoney,
            )
        };
        rec.rows
            .iter()
            .zip(&base.rows)
            .map(|(r, b)| {
                let surplus = surplus::at_marginal_utility(r[cs], r[ratio], r[mu], b[mu]);
                surplus
                    + match self {
                        AtBase::AiSurplus | AtBase::CloudSurplus => 0.0,
                        AtBase::AiWelfare => r[Metric::ProviderProfitMusd] + r[Metric::LabProfitMusd],
                        AtBase::CloudWelfare => r[Metric::CloudProfitMusd],
                    }
            })
            .collect()
    }
}

/// A compared quantity: a `metrics.csv` column or one provider's rent share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quantity {
    /// A run-level metric.
    Metric(Metric),
    /// A provider's share of enterprise AI spend ending as its revenue (`rent.<provider>`).
    Rent(String),
    /// A corporate owner's profit: its providers' and labs' profit, US$ M per month
    /// (`profit.<owner>`; 0 in months it owns nothing).
    OwnerProfit(String),
    /// Surplus or welfare with consumer surplus at the base's marginal utility of money.
    AtBase(AtBase),
}

impl Quantity {
    /// Name as written in tables and `comparison.csv`.
    pub fn label(&self) -> String {
        match self {
            Quantity::Metric(m) => m.name().to_string(),
            Quantity::Rent(p) => format!("rent.{p}"),
            Quantity::OwnerProfit(o) => format!("profit.{o}"),
            Quantity::AtBase(a) => a.label().to_string(),
        }
    }

    /// The quantity of a label (`hhi_cloud`, `rent.aws`), if any.
    pub fn parse(label: &str) -> Option<Quantity> {
        if let Some(m) = Metric::from_name(label) {
            return Some(Quantity::Metric(m));
        }
        if let Some(a) = AtBase::ALL.into_iter().find(|a| a.label() == label) {
            return Some(Quantity::AtBase(a));
        }
        if let Some(o) = label.strip_prefix("profit.").filter(|o| !o.is_empty()) {
            return Some(Quantity::OwnerProfit(o.to_string()));
        }
        label
            .strip_prefix("rent.")
            .filter(|p| !p.is_empty())
            .map(|p| Quantity::Rent(p.to_string()))
    }

    /// Unit of the quantity (a rent share is a fraction of enterprise AI spend).
    pub fn unit(&self) -> &'static str {
        match self {
            Quantity::Metric(m) => m.unit(),
            Quantity::Rent(_) => "fraction",
            Quantity::OwnerProfit(_) | Quantity::AtBase(_) => "US$ M per month",
        }
    }

    /// Whether the printed table shows this quantity (comparison.csv has them all).
    pub fn in_table(&self) -> bool {
        match self {
            Quantity::Metric(m) => Market::all().any(|k| Metric::hhi(k) == *m) || TABLE_SERIES.contains(m),
            Quantity::Rent(_) | Quantity::OwnerProfit(_) => true,
            Quantity::AtBase(a) => matches!(a, AtBase::AiSurplus | AtBase::AiWelfare),
        }
    }

    /// The per-tick series of this quantity in a recorded run (a provider absent from the run
    /// has a rent of 0; surplus `AtBase` at the run's own marginal utility of money).
    pub fn series(&self, rec: &MetricsRecorder) -> Vec<f64> {
        self.series_against(rec, rec)
    }

    /// The per-tick series of a run compared with `base` (its paired base replicate): as
    /// [`Quantity::series`], except that `AtBase` converts at `base`'s marginal utility of money.
    pub fn series_against(&self, rec: &MetricsRecorder, base: &MetricsRecorder) -> Vec<f64> {
        match self {
            Quantity::Metric(m) => rec.rows.iter().map(|r| r[*m]).collect(),
            Quantity::Rent(p) => rec.rent_of(p),
            Quantity::OwnerProfit(o) => rec.owner_profit_of(o),
            Quantity::AtBase(a) => a.series(rec, base),
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
    summarise_against(rec, rec, q, w)
}

/// A run's summary of one quantity, compared with its paired base replicate `base`.
pub fn summarise_against(rec: &MetricsRecorder, base: &MetricsRecorder, q: &Quantity, w: Window) -> f64 {
    let s = q.series_against(rec, base);
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

/// The quantities compared for runs whose providers are `providers`: every metric in column
/// order, then the surplus and welfare series at the base's prices, each provider's rent and
/// each owner's profit.
pub fn quantities(providers: &[String], owners: &[String]) -> Vec<Quantity> {
    let mut q: Vec<Quantity> = Metric::all().map(Quantity::Metric).collect();
    q.extend(AtBase::ALL.map(Quantity::AtBase));
    q.extend(providers.iter().map(|p| Quantity::Rent(p.clone())));
    q.extend(owners.iter().map(|o| Quantity::OwnerProfit(o.clone())));
    q
}

/// Every corporate owner that owns something in some month of some run, sorted.
pub fn owners_of(runs: &[&MetricsRecorder]) -> Vec<String> {
    let mut owners = std::collections::BTreeSet::new();
    for r in runs {
        for month in &r.owner_profit {
            owners.extend(month.keys().cloned());
        }
    }
    owners.into_iter().collect()
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
            let s: Vec<f64> = scenario
                .iter()
                .zip(base)
                .map(|(r, b)| summarise_against(r, b, q, w))
                .collect();
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
    seed_hex: String,
    error: String,
}

#[derive(Debug, Serialize)]
struct ConfigEntry {
    label: String,
    path: String,
    /// `--scenario-set` overrides of a `set:` scenario (applied after `--set`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scenario_set: Vec<String>,
    hash: String,
}

#[derive(Debug, Serialize)]
struct Manifest {
    command: &'static str,
    aimarket_version: &'static str,
    git_commit: &'static str,
    git_dirty: Option<bool>,
    base: ConfigEntry,
    scenarios: Vec<ConfigEntry>,
    overrides: Vec<String>,
    master_seed: u64,
    seeds: Vec<u64>,
    seeds_hex: Vec<String>,
    replicates: u32,
    enterprises: u32,
    ticks: u32,
    start: String,
    runs: usize,
    failed: Vec<FailedRun>,
    trajectories: bool,
    /// Whether the scenarios started from the base replicates' outside options.
    common_calibration: bool,
    /// Under `common_calibration`, per replicate, the base's calibrated outside options that
    /// every scenario used (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    calibrations: Vec<Calibration>,
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
    /// The file as given (for a `set:` scenario, the base file).
    pub path: PathBuf,
    /// Label in tables (file stem; the path when two stems clash; `set:<k=v,...>` for the
    /// scenario defined by `--scenario-set`).
    pub label: String,
    /// The `--scenario-set` overrides that define a `set:` scenario (empty otherwise).
    pub scenario_set: Vec<String>,
    /// The resolved config.
    pub config: Config,
}

/// A validated `compare`: the base first, then the scenarios, all covering the same months.
#[derive(Debug, Clone)]
pub struct ComparePlan {
    /// The base (index 0) and the scenarios.
    pub configs: Vec<Compared>,
    /// Overrides applied to every config (`--set`, then `--ticks`/`--enterprises`).
    pub overrides: Vec<String>,
    /// Replicates per config (≥ 1).
    pub replicates: u32,
    /// Master seed from which replicate seeds are derived.
    pub master_seed: u64,
    /// Output directory.
    pub out: PathBuf,
    /// Also write `trajectories.csv` (per-month statistics).
    pub trajectories: bool,
    /// Start every scenario replicate from its base replicate's calibrated outside options.
    pub common_calibration: bool,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Draw a progress bar.
    pub progress: bool,
    /// Print the closing summary line.
    pub report: bool,
}

/// What `compare` loads: files and overrides as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct CompareInputs {
    /// The base config file.
    pub base: PathBuf,
    /// Scenario config files.
    pub scenarios: Vec<PathBuf>,
    /// `--scenario-set` overrides: together they define one more scenario, the base with them.
    pub scenario_set: Vec<String>,
    /// `--set` overrides, applied to every config.
    pub set: Vec<String>,
    /// Overrides from dedicated flags (`--ticks`, `--enterprises`), applied last (they win).
    pub shorthands: Vec<String>,
    /// Replicates per config.
    pub replicates: u32,
}

impl ComparePlan {
    /// The configs of a comparison: loads every config with its overrides, checks that the
    /// scenarios cover the base's months, and labels them. Nothing runs. Also returns the
    /// overrides applied to every config.
    pub fn load_configs(inputs: &CompareInputs) -> Result<(Vec<Compared>, Vec<String>), CommandError> {
        if inputs.replicates == 0 {
            return Err(CommandError::input("--replicates must be at least 1, got 0"));
        }
        if inputs.scenarios.is_empty() && inputs.scenario_set.is_empty() {
            return Err(CommandError::input(
                "nothing to compare: give at least one SCENARIO config or --scenario-set KEY=VALUE",
            ));
        }
        let overrides: Vec<String> = inputs.set.iter().chain(&inputs.shorthands).cloned().collect();
        let base = &inputs.base;
        let base_config = config::load(base, &overrides).map_err(CommandError::input)?;
        let mut configs = vec![Compared {
            path: base.to_path_buf(),
            label: label_of(base),
            scenario_set: Vec::new(),
            config: base_config.clone(),
        }];
        let same_months = |c: &Config, what: &str| {
            if c.run.start != base_config.run.start || c.run.ticks != base_config.run.ticks {
                return Err(CommandError::input(format!(
                    "{what}: run.start/run.ticks are {}/{}, expected the base's {}/{}: compared runs must cover the same months",
                    c.run.start, c.run.ticks, base_config.run.start, base_config.run.ticks
                )));
            }
            Ok(())
        };
        for path in &inputs.scenarios {
            let c = config::load(path, &overrides).map_err(CommandError::input)?;
            same_months(&c, &path.display().to_string())?;
            let mut label = label_of(path);
            if configs.iter().any(|x| x.label == label) {
                label = path.display().to_string();
            }
            configs.push(Compared {
                path: path.clone(),
                label,
                scenario_set: Vec::new(),
                config: c,
            });
        }
        if !inputs.scenario_set.is_empty() {
            let all: Vec<String> = inputs
                .set
                .iter()
                .chain(&inputs.scenario_set)
                .chain(&inputs.shorthands)
                .cloned()
                .collect();
            let label = format!("set:{}", inputs.scenario_set.join(","));
            let c = config::load(base, &all).map_err(|e| CommandError::input(format!("--scenario-set: {e}")))?;
            same_months(&c, &format!("--scenario-set {}", inputs.scenario_set.join(" ")))?;
            configs.push(Compared {
                path: base.to_path_buf(),
                label,
                scenario_set: inputs.scenario_set.clone(),
                config: c,
            });
        }
        Ok((configs, overrides))
    }
}

/// The finished runs of one config, by replicate (`None`: the run failed).
type Runs<'a> = Vec<Option<&'a MetricsRecorder>>;

/// The replicates where both the base and the scenario finished, as paired lists.
fn pairs<'a>(base: &Runs<'a>, scenario: &Runs<'a>) -> (Vec<&'a MetricsRecorder>, Vec<&'a MetricsRecorder>) {
    base.iter()
        .zip(scenario)
        .filter_map(|(b, s)| Some(((*b)?, (*s)?)))
        .unzip()
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
    // With a common calibration, replicate r of every scenario starts from the outside options
    // that replicate r of the base calibrates (they depend on the sampled enterprises).
    let calibrations: Vec<Calibration> = if plan.common_calibration {
        pool.install(|| {
            seeds
                .par_iter()
                .map(|&seed| {
                    let mut config = base.clone();
                    config.run.seed = seed;
                    Calibration::of(&Simulation::new(&config))
                })
                .collect()
        })
    } else {
        Vec::new()
    };
    let jobs: Vec<Job> = configs
        .iter()
        .enumerate()
        .flat_map(|(c, compared)| {
            let calibrations = &calibrations;
            seeds.iter().enumerate().map(move |(r, &seed)| {
                let mut config = compared.config.clone();
                config.run.seed = seed;
                if let (true, Some(cal)) = (c > 0, calibrations.get(r)) {
                    config.demand.cloud_outside_utility = Some(cal.cloud_outside_utility);
                    config.demand.ai_outside_utility = Some(cal.ai_outside_utility);
                }
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
                config: configs[c].label.clone(),
                replicate: r as u32,
                seed: seeds[r],
                seed_hex: seed_hex(seeds[r]),
                error: e.clone(),
            };
            eprintln!(
                "error: run failed: {} replicate {} (seed {}): {}",
                f.config, f.replicate, f.seed, f.error
            );
            failed.push(f);
        }
    }
    let runs: Vec<Runs> = (0..configs.len())
        .map(|c| {
            (0..n)
                .map(|r| results[c * n + r].as_ref().ok().map(|o| &o.recorded))
                .collect()
        })
        .collect();

    // Rents of the base's providers, then of any provider a scenario adds (absent ones count 0).
    let mut providers: Vec<String> = base.providers.keys().cloned().collect();
    for c in &configs[1..] {
        for p in c.config.providers.keys() {
            if !providers.contains(p) {
                providers.push(p.clone());
            }
        }
    }
    // Profits of every owner that owns something in some run (an acquisition adds none, a
    // new provider may add one).
    let recorded: Vec<&MetricsRecorder> = runs.iter().flatten().flatten().copied().collect();
    let all_quantities = quantities(&providers, &owners_of(&recorded));

    let mut rows = Vec::new();
    let mut trajectories = Vec::new();
    for (s, compared) in configs.iter().enumerate().skip(1) {
        let label = &compared.label;
        // Rents of the base's providers and of any provider this scenario adds.
        let quantities: Vec<Quantity> = all_quantities
            .iter()
            .filter(|q| match q {
                Quantity::Rent(p) => base.providers.contains_key(p) || compared.config.providers.contains_key(p),
                Quantity::Metric(_) | Quantity::OwnerProfit(_) | Quantity::AtBase(_) => true,
            })
            .cloned()
            .collect();
        let (b, sc) = pairs(&runs[0], &runs[s]);
        if b.is_empty() {
            eprintln!("error: {label}: no replicate finished for both base and scenario; it is left out of the table");
            continue;
        }
        rows.extend(compare_runs(label, &b, &sc, &quantities));
        if plan.trajectories {
            trajectories.extend(trajectory_rows(label, &b, &sc, &quantities));
        }
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
    let io =
        |file: &'static str| move |e: std::io::Error| CommandError::failed(format!("{}/{file}: {e}", out.display()));
    std::fs::create_dir_all(out)
        .map_err(|e| CommandError::failed(format!("{}: cannot be created: {e}", out.display())))?;
    let csv = comparison_csv(&rows).map_err(|e| CommandError::failed(format!("comparison.csv: {e}")))?;
    let csv_path = write_atomic(out, "comparison.csv", &csv).map_err(io("comparison.csv"))?;
    let reps = replicates_csv(configs, &runs, &seeds, &all_quantities)
        .map_err(|e| CommandError::failed(format!("replicates.csv: {e}")))?;
    write_atomic(out, "replicates.csv", &reps).map_err(io("replicates.csv"))?;
    let mut files = vec!["comparison.csv", "replicates.csv"];
    let start = Month::parse(&base.run.start).map_err(CommandError::failed)?;
    if plan.trajectories {
        let t = trajectories_csv(&trajectories, start)
            .map_err(|e| CommandError::failed(format!("trajectories.csv: {e}")))?;
        write_atomic(out, "trajectories.csv", &t).map_err(io("trajectories.csv"))?;
        files.push("trajectories.csv");
    } else {
        // An older comparison's trajectories would not match these results.
        match std::fs::remove_file(out.join("trajectories.csv")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("trajectories.csv")(e)),
            _ => {}
        }
    }
    let entry = |c: &Compared| ConfigEntry {
        label: c.label.clone(),
        path: c.path.display().to_string(),
        scenario_set: c.scenario_set.clone(),
        hash: config::hash(&c.config),
    };
    let manifest = Manifest {
        command: "compare",
        aimarket_version: env!("CARGO_PKG_VERSION"),
        git_commit: crate::output::run_files::GIT_COMMIT,
        git_dirty: crate::output::run_files::git_dirty(),
        base: entry(&configs[0]),
        scenarios: configs[1..].iter().map(entry).collect(),
        overrides: plan.overrides.clone(),
        master_seed: master,
        seeds: seeds.clone(),
        seeds_hex: seeds.iter().map(|&s| seed_hex(s)).collect(),
        replicates: plan.replicates,
        enterprises: base.run.enterprises,
        ticks: base.run.ticks,
        start: base.run.start.clone(),
        runs: jobs.len(),
        failed: failed.clone(),
        trajectories: plan.trajectories,
        common_calibration: plan.common_calibration,
        calibrations: calibrations.clone(),
        files: files.clone(),
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| CommandError::failed(format!("manifest.json: {e}")))?;
    write_atomic(out, "manifest.json", &json).map_err(io("manifest.json"))?;
    if plan.report {
        eprintln!(
            "{} runs in {:.1} s; wrote {}, {} and manifest.json to {}",
            jobs.len(),
            started.elapsed().as_secs_f64(),
            csv_path
                .file_name()
                .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
            files[1..].join(", "),
            out.display()
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

/// One month of one quantity of one scenario: the base's and the scenario's replicate means
/// with 95 % intervals, and the paired difference.
#[derive(Debug, Clone)]
pub struct TrajectoryRow {
    /// Scenario label.
    pub scenario: String,
    /// Quantity.
    pub quantity: Quantity,
    /// Month index from `run.start`.
    pub tick: usize,
    /// Mean and 95 % Student-t interval of the base's values over the paired replicates.
    pub base: (f64, f64, f64),
    /// The same for the scenario.
    pub scenario_stats: (f64, f64, f64),
    /// The paired difference scenario − base.
    pub paired: Paired,
}

/// Mean and 95 % interval of replicate values (NaN where undefined).
fn mean_ci(values: &[f64], t: f64) -> (f64, f64, f64) {
    let s = replicate_summary(values, t);
    let nan = f64::NAN;
    (s.mean.unwrap_or(nan), s.ci_low.unwrap_or(nan), s.ci_high.unwrap_or(nan))
}

/// Per-month statistics of paired runs on every quantity.
pub fn trajectory_rows(
    label: &str,
    base: &[&MetricsRecorder],
    scenario: &[&MetricsRecorder],
    quantities: &[Quantity],
) -> Vec<TrajectoryRow> {
    let n = base.len().min(scenario.len());
    let t = if n >= 2 { t975(n - 1) } else { f64::NAN };
    let mut rows = Vec::new();
    for q in quantities {
        let b: Vec<Vec<f64>> = base.iter().map(|r| q.series(r)).collect();
        let s: Vec<Vec<f64>> = scenario.iter().zip(base).map(|(r, b)| q.series_against(r, b)).collect();
        let ticks = b.iter().chain(&s).map(Vec::len).min().unwrap_or(0);
        for tick in 0..ticks {
            let bt: Vec<f64> = b.iter().map(|x| x[tick]).collect();
            let st: Vec<f64> = s.iter().map(|x| x[tick]).collect();
            rows.push(TrajectoryRow {
                scenario: label.to_string(),
                quantity: q.clone(),
                tick,
                base: mean_ci(&bt, t),
                scenario_stats: mean_ci(&st, t),
                paired: paired(&bt, &st),
            });
        }
    }
    rows
}

/// A number for the printed table: `digits` significant digits of `scale` (the largest
/// magnitude shown in the cell), scientific notation when `scale` is below 10⁻³ so that small
/// effects never print as zeros. `n/a` if not finite; an exact zero prints as `0`.
fn short(v: f64, scale: f64, digits: i32, sign: bool) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let scale = if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        v.abs()
    };
    let mantissa = (digits - 1).max(0) as usize;
    match (scale < 1e-3, sign) {
        (true, true) => format!("{v:+.mantissa$e}"),
        (true, false) => format!("{v:.mantissa$e}"),
        (false, _) => {
            let decimals = (digits - 1 - scale.log10().floor() as i32).clamp(0, 8) as usize;
            if sign {
                format!("{v:+.decimals$}")
            } else {
                format!("{v:.decimals$}")
            }
        }
    }
}

fn delta_cell(p: &Paired) -> String {
    let scale = [p.delta, p.ci_low, p.ci_high]
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let ci = if p.ci_low.is_finite() {
        format!(
            " [{}, {}]",
            short(p.ci_low, scale, 3, false),
            short(p.ci_high, scale, 3, false)
        )
    } else {
        String::new()
    };
    format!(
        "{}{ci}{}",
        short(p.delta, scale, 3, true),
        if p.significant() { " *" } else { "" }
    )
}

/// The printed table: per scenario and quantity, the base's time average and the paired
/// change of the time average and of the final value (`*`: the 95 % CI excludes 0). It shows
/// the quantities of [`Quantity::in_table`]; comparison.csv has every one.
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
        if !fin.quantity.in_table() {
            continue;
        }
        let b = avg.stats.base_mean;
        let base_cell = short(b, b.abs(), 4, false);
        lines.push([
            fin.scenario.clone(),
            fin.quantity.label(),
            base_cell,
            delta_cell(&avg.stats),
            delta_cell(&fin.stats),
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
    out.push_str("(the table shows the HHIs, switching, spend shares, price and margin, rent, dependency, consumer surplus, profits and welfare; comparison.csv has every metric)\n");
    out
}

/// A CSV cell: shortest round-trip decimal, empty when not finite.
fn num(v: f64) -> String {
    if v.is_finite() { format_number(v) } else { String::new() }
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

/// `replicates.csv`: one row per config (the base included), finished replicate, quantity and
/// window, with the run's summary value.
fn replicates_csv(
    configs: &[Compared],
    runs: &[Runs],
    seeds: &[u64],
    quantities: &[Quantity],
) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scenario",
        "role",
        "replicate",
        "seed",
        "seed_hex",
        "quantity",
        "window",
        "value",
    ])
    .map_err(|e| e.to_string())?;
    for (c, compared) in configs.iter().enumerate() {
        let role = if c == 0 { "base" } else { "scenario" };
        for (r, rec) in runs[c].iter().enumerate() {
            let Some(rec) = rec else { continue };
            // `AtBase` quantities convert at the same replicate's base (NaN if it failed).
            let base = runs[0][r];
            for q in quantities {
                for win in [Window::Final, Window::Average] {
                    w.write_record([
                        compared.label.clone(),
                        role.to_string(),
                        r.to_string(),
                        seeds[r].to_string(),
                        seed_hex(seeds[r]),
                        q.label(),
                        win.label().to_string(),
                        num(match (q, base) {
                            (Quantity::AtBase(_), None) => f64::NAN,
                            (_, Some(b)) => summarise_against(rec, b, q, win),
                            (_, None) => summarise(rec, q, win),
                        }),
                    ])
                    .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// `trajectories.csv`: one row per scenario, quantity and month.
pub fn trajectories_csv(rows: &[TrajectoryRow], start: Month) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scenario",
        "quantity",
        "tick",
        "date",
        "base_mean",
        "base_ci_low",
        "base_ci_high",
        "scenario_mean",
        "scenario_ci_low",
        "scenario_ci_high",
        "delta",
        "delta_ci_low",
        "delta_ci_high",
        "replicates",
    ])
    .map_err(|e| e.to_string())?;
    for r in rows {
        let p = &r.paired;
        w.write_record([
            r.scenario.clone(),
            r.quantity.label(),
            r.tick.to_string(),
            start.plus(r.tick as i64).to_string(),
            num(r.base.0),
            num(r.base.1),
            num(r.base.2),
            num(r.scenario_stats.0),
            num(r.scenario_stats.1),
            num(r.scenario_stats.2),
            num(p.delta),
            num(p.ci_low),
            num(p.ci_high),
            p.n.to_string(),
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
            owner_profit: vec![
                [("amazon".to_string(), 5.0)].into_iter().collect(),
                [("amazon".to_string(), 7.0), ("anthropic".to_string(), 1.0)]
                    .into_iter()
                    .collect(),
            ],
            ..MetricsRecorder::default()
        };
        assert!((summarise(&rec, &Quantity::Rent("aws".into()), Window::Average) - 0.2).abs() < 1e-12);
        assert_eq!(summarise(&rec, &Quantity::Rent("stargate".into()), Window::Final), 0.0);
        // An owner counts 0 in months it owns nothing.
        let anthropic = Quantity::OwnerProfit("anthropic".into());
        assert!((summarise(&rec, &anthropic, Window::Average) - 0.5).abs() < 1e-12);
        assert_eq!(
            summarise(&rec, &Quantity::OwnerProfit("amazon".into()), Window::Final),
            7.0
        );
        assert_eq!(owners_of(&[&rec]), vec!["amazon".to_string(), "anthropic".to_string()]);
        assert_eq!(
            Quantity::parse("profit.amazon"),
            Some(Quantity::OwnerProfit("amazon".into()))
        );
    }

    #[test]
    fn surplus_at_base_converts_the_scenarios_utility_at_the_bases_marginal_utility() {
        // Month by month: utility mass W = cs · ratio · λ_own; at the base, W / λ_base.
        let month = |cs: f64, ratio: f64, mu: f64, profit: f64| {
            let mut m = crate::config::MetricValues::default();
            m[Metric::ConsumerSurplusAiMusd] = cs;
            m[Metric::AiSurplusReferenceRatio] = ratio;
            m[Metric::AiMarginalUtilityOfMoney] = mu;
            m[Metric::ProviderProfitMusd] = profit;
            m[Metric::LabProfitMusd] = -1.0;
            m
        };
        let rec = |rows| MetricsRecorder {
            rows,
            ..MetricsRecorder::default()
        };
        let base = rec(vec![month(100.0, 1.0, 0.5, 10.0), month(120.0, 3.0, 0.4, 12.0)]);
        let scen = rec(vec![month(110.0, 1.0, 0.5, 9.0), month(126.0, 3.0, 0.36, 11.0)]);
        let surplus = Quantity::AtBase(AtBase::AiSurplus);
        // Base at its own λ: cs · ratio. Scenario: (cs · ratio · λ_s) / λ_b.
        assert_eq!(surplus.series(&base), vec![100.0, 360.0]);
        let s = surplus.series_against(&scen, &base);
        let expected = [110.0, 126.0 * 3.0 * 0.36 / 0.4];
        assert!(s.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-9), "{s:?}");
        let welfare = Quantity::AtBase(AtBase::AiWelfare).series_against(&scen, &base);
        assert!((welfare[1] - (expected[1] + 11.0 - 1.0)).abs() < 1e-9);
        let rows = compare_runs("x", &[&base], &[&scen], std::slice::from_ref(&surplus));
        let average = rows.iter().find(|r| r.window == Window::Average).unwrap();
        let want = ((expected[0] - 100.0) + (expected[1] - 360.0)) / 2.0;
        assert!((average.stats.delta - want).abs() < 1e-9, "{}", average.stats.delta);
        // Broken: converting each run at its own λ would report a different change.
        let own = (surplus.series(&scen)[1] - 360.0 + 10.0) / 2.0;
        assert!((own - want).abs() > 1.0);
    }

    #[test]
    fn small_effects_print_in_scientific_notation_never_as_zeros() {
        let p = Paired {
            n: 8,
            base_mean: 2e-4,
            scenario_mean: 1.9e-4,
            delta: -3.41e-6,
            ci_low: -4.0e-6,
            ci_high: -2.8e-6,
        };
        assert_eq!(delta_cell(&p), "-3.41e-6 [-4.00e-6, -2.80e-6] *");
        let hhi = Paired {
            delta: 12.34,
            ci_low: 10.1,
            ci_high: 14.56,
            ..p
        };
        assert_eq!(delta_cell(&hhi), "+12.3 [10.1, 14.6] *");
        let zero = Paired {
            delta: 0.0,
            ci_low: 0.0,
            ci_high: 0.0,
            ..p
        };
        assert_eq!(delta_cell(&zero), "0 [0, 0]");
        let share = Paired {
            delta: 0.0123,
            ci_low: -0.002,
            ci_high: 0.0266,
            ..p
        };
        assert_eq!(delta_cell(&share), "+0.0123 [-0.0020, 0.0266]");
    }

    #[test]
    fn quantity_labels_parse_back() {
        for q in quantities(&["aws".to_string()], &["amazon".to_string()]) {
            assert_eq!(Quantity::parse(&q.label()), Some(q));
        }
        assert_eq!(Quantity::parse("rent."), None);
        assert_eq!(Quantity::parse("hhi_clouds"), None);
        assert_eq!(seed_hex(255), "0x00000000000000ff");
    }
}
