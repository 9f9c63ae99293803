//! Running a whole simulation: the tick loop, observers of each tick's report, and errors.

use std::time::Instant;

use crate::config::{Config, MetricValues};
use crate::sim::events::{EventLog, FiredEvent};
use crate::sim::resources::{Layout, TickReport};
use crate::sim::world::Simulation;

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The model reached an invalid state (a non-finite value, an event that could not apply).
    #[error("the model failed: {0}")]
    Model(String),
    /// An observer could not record a tick (e.g. a full disk).
    #[error("could not write results: {0}")]
    Output(String),
    /// The user interrupted the run.
    #[error("interrupted")]
    Interrupted,
}

/// Receives the layout once and each tick's report as the run goes.
pub trait Observer {
    /// Called once before the first tick.
    fn start(&mut self, _layout: &Layout) -> Result<(), String> {
        Ok(())
    }
    /// Called after every tick.
    fn tick(&mut self, report: &TickReport) -> Result<(), String>;
}

/// What a finished run reports besides its ticks.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Events that fired, in order.
    pub events: Vec<FiredEvent>,
    /// Wall time of the run, seconds.
    pub wall_seconds: f64,
    /// The outside options' utilities at tick 0 (calibrated, or as configured).
    pub calibration: Calibration,
}

/// What start-up calibrated: the outside options' utilities at tick 0, logit units. Setting
/// `demand.cloud_outside_utility` and `demand.ai_outside_utility` to these values reproduces
/// the run and lets another specification start from the same preferences.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// `V_0^c`: the on-premises option's utility.
    pub cloud_outside_utility: f64,
    /// `V_0^a`: the AI outside option's utility.
    pub ai_outside_utility: f64,
}

impl Calibration {
    /// The calibration of a built world.
    pub fn of(sim: &Simulation) -> Calibration {
        let d = sim.world().resource::<crate::sim::resources::Demand>();
        Calibration {
            cloud_outside_utility: d.cloud_outside_v0,
            ai_outside_utility: d.ai_outside_v0,
        }
    }
}

/// Runs `config` to the end, feeding every tick to `observer` and calling `progress` with the
/// number of ticks done. `stop` is polled between ticks; when it returns true the run ends
/// with [`RunError::Interrupted`].
pub fn simulate(
    config: &Config,
    observer: &mut dyn Observer,
    progress: &mut dyn FnMut(u32),
    stop: &dyn Fn() -> bool,
) -> Result<RunInfo, RunError> {
    simulate_with_threads(config, 1, observer, progress, stop)
}

/// As [`simulate`], with the enterprise phase spread over `threads` threads; the results are
/// the same for any number.
pub fn simulate_with_threads(
    config: &Config,
    threads: usize,
    observer: &mut dyn Observer,
    progress: &mut dyn FnMut(u32),
    stop: &dyn Fn() -> bool,
) -> Result<RunInfo, RunError> {
    let started = Instant::now();
    let mut sim = Simulation::with_threads(config, threads);
    let calibration = Calibration::of(&sim);
    observer
        .start(sim.world().resource::<Layout>())
        .map_err(RunError::Output)?;
    for done in 1..=sim.ticks() {
        if stop() {
            return Err(RunError::Interrupted);
        }
        let report = sim.step().map_err(RunError::Model)?;
        observer.tick(report).map_err(RunError::Output)?;
        progress(done);
    }
    Ok(RunInfo {
        events: sim.world().resource::<EventLog>().0.clone(),
        wall_seconds: started.elapsed().as_secs_f64(),
        calibration,
    })
}

/// An observer that keeps only the run-level metrics of every tick (for sweeps and comparisons).
#[derive(Debug, Clone, Default)]
pub struct MetricsRecorder {
    /// The metrics of every tick.
    pub rows: Vec<MetricValues>,
    /// Per tick, each provider's rent share (providers in layout order).
    pub rent: Vec<Vec<f64>>,
    /// Provider ids in layout order.
    pub providers: Vec<String>,
    /// Per tick, the profit of every corporate owner this month (the profit of the providers
    /// and labs it controls, summed; partial stakes are not apportioned), US$ M per month.
    pub owner_profit: Vec<std::collections::BTreeMap<String, f64>>,
    /// Lab ids in layout order.
    pub labs: Vec<String>,
    /// Per tick, each provider's share of the cloud market (layout order; 0 when absent).
    pub cloud_share: Vec<Vec<f64>>,
    /// Per tick, each lab's share of the model market by origin (layout order).
    pub model_share: Vec<Vec<f64>>,
    /// Per tick, each lab's dependency: its largest provider's share of its compute.
    pub dependency: Vec<Vec<f64>>,
    /// Per tick, each lab's Lerner index on its direct API, `fee / price` (agents.csv `lerner`).
    pub lab_lerner: Vec<Vec<f64>>,
}

impl MetricsRecorder {
    /// Per tick, agent `id`'s column of a per-tick `table` ordered like `ids` (0 where the agent
    /// is not in the run or has no value that month).
    fn column(table: &[Vec<f64>], ids: &[String], id: &str) -> Vec<f64> {
        let i = ids.iter().position(|x| x == id);
        table
            .iter()
            .map(|row| i.and_then(|i| row.get(i)).copied().unwrap_or(0.0))
            .collect()
    }

    /// A provider's rent share per tick.
    pub fn rent_of(&self, provider: &str) -> Vec<f64> {
        Self::column(&self.rent, &self.providers, provider)
    }

    /// A provider's cloud-market share per tick.
    pub fn cloud_share_of(&self, provider: &str) -> Vec<f64> {
        Self::column(&self.cloud_share, &self.providers, provider)
    }

    /// A lab's model-market share (by origin) per tick.
    pub fn model_share_of(&self, lab: &str) -> Vec<f64> {
        Self::column(&self.model_share, &self.labs, lab)
    }

    /// A lab's dependency per tick.
    pub fn dependency_of(&self, lab: &str) -> Vec<f64> {
        Self::column(&self.dependency, &self.labs, lab)
    }

    /// A lab's direct-API Lerner index per tick.
    pub fn lab_lerner_of(&self, lab: &str) -> Vec<f64> {
        Self::column(&self.lab_lerner, &self.labs, lab)
    }

    /// A corporate owner's profit per tick (0 in months it owns nothing).
    pub fn owner_profit_of(&self, owner: &str) -> Vec<f64> {
        self.owner_profit
            .iter()
            .map(|m| m.get(owner).copied().unwrap_or(0.0))
            .collect()
    }
}

/// `ids`' shares of `market` in one tick's share rows, in the order of `ids` (0 when absent).
fn shares_of(report: &TickReport, market: crate::config::Market, ids: &[String]) -> Vec<f64> {
    ids.iter()
        .map(|id| {
            report
                .shares
                .iter()
                .find(|r| r.market == market && &r.agent == id)
                .map_or(0.0, |r| r.share)
        })
        .collect()
}

/// Profit per corporate owner of one tick's agent rows, summed in row order.
pub fn owner_profit(report: &TickReport) -> std::collections::BTreeMap<String, f64> {
    let mut by_owner = std::collections::BTreeMap::new();
    for a in &report.agents {
        *by_owner.entry(a.owner.clone()).or_insert(0.0) += a.profit_musd;
    }
    by_owner
}

impl Observer for MetricsRecorder {
    fn start(&mut self, layout: &Layout) -> Result<(), String> {
        self.providers = layout.providers.clone();
        self.labs = layout.labs.clone();
        Ok(())
    }

    fn tick(&mut self, report: &TickReport) -> Result<(), String> {
        self.rows.push(report.metrics);
        self.rent
            .push(report.agents.iter().filter_map(|a| a.rent_share).collect());
        self.owner_profit.push(owner_profit(report));
        self.cloud_share
            .push(shares_of(report, crate::config::Market::Cloud, &self.providers));
        self.model_share
            .push(shares_of(report, crate::config::Market::Model, &self.labs));
        let lab_row = |l: &String| report.agents.iter().find(|a| a.kind == "lab" && &a.agent == l);
        self.dependency.push(
            self.labs
                .iter()
                .map(|l| lab_row(l).and_then(|a| a.dependency).unwrap_or(0.0))
                .collect(),
        );
        self.lab_lerner
            .push(self.labs.iter().map(|l| lab_row(l).map_or(0.0, |a| a.lerner)).collect());
        Ok(())
    }
}
