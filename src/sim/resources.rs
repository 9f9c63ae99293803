//! World-wide resources: fixed layout, live parameters, regulation, contracts, the market view
//! published each tick, enterprise holdings, settlement results and the tick report.

use bevy_ecs::prelude::*;

use crate::config::{Config, Market, MetricValues, Month};
use crate::econ::choice::{ChoiceTables, CloudTables};
pub use crate::econ::contracts::Contract;
pub use crate::econ::policy::Regulation;
use crate::econ::portfolio::{Tally, Thresholds};
use crate::econ::settlement::Flows;
use crate::econ::slots::SlotLayout;

/// The live parameters of the run: the resolved config, changed only by events.
#[derive(Resource, Debug, Clone)]
pub struct Params(pub Config);

/// Time and seed.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Clock {
    /// Current tick (month index from `run.start`).
    pub tick: u32,
    /// Month of tick 0.
    pub start: Month,
    /// Run seed.
    pub seed: u64,
}

impl Clock {
    /// Month of the current tick.
    pub fn month(&self) -> Month {
        self.start.plus(i64::from(self.tick))
    }

    /// Tick of a `YYYY-MM` month relative to the start (validated configs only).
    pub fn tick_of(&self, month: &str) -> i64 {
        Month::parse(month).map_or(0, |m| m.ticks_since(self.start))
    }
}

/// Fixed shape of the run: agent ids and the option-slot layout.
#[derive(Resource, Debug, Clone)]
pub struct Layout {
    /// Provider ids in index order.
    pub providers: Vec<String>,
    /// Lab ids in index order.
    pub labs: Vec<String>,
    /// Slot arithmetic of the option space.
    pub slots: SlotLayout,
}

impl Layout {
    /// The layout of these agents.
    pub fn new(providers: Vec<String>, labs: Vec<String>) -> Layout {
        let slots = SlotLayout {
            n_providers: providers.len(),
            n_labs: labs.len(),
        };
        Layout { providers, labs, slots }
    }
    /// Number of providers.
    pub fn n_providers(&self) -> usize {
        self.providers.len()
    }
    /// Number of labs.
    pub fn n_labs(&self) -> usize {
        self.labs.len()
    }
}

/// Regulation and exogenous shocks in force (the econ state, held as a resource).
#[derive(Resource, Debug, Clone, Default)]
pub struct Policy(pub Regulation);

impl std::ops::Deref for Policy {
    type Target = Regulation;
    fn deref(&self) -> &Regulation {
        &self.0
    }
}

impl std::ops::DerefMut for Policy {
    fn deref_mut(&mut self) -> &mut Regulation {
        &mut self.0
    }
}

/// All contracts, in config order followed by contracts created by events.
#[derive(Resource, Debug, Clone, Default)]
pub struct Contracts(pub Vec<Contract>);

/// Parallelism inside a run: a thread pool for the enterprise phase (`run --threads N`, N ≥ 2),
/// or none (the default, and always in sweeps, which parallelise across runs).
#[derive(Resource, Default)]
pub struct WithinRun {
    /// The pool, if the enterprise phase runs in parallel.
    pub pool: Option<std::sync::Arc<rayon::ThreadPool>>,
}

/// Demand levels: what a workload unit is worth, and this month's market totals.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct Demand {
    /// AI inference compute per AI unit (× size), kGPU; a demand shock scales it.
    pub ai_kgpu_per_unit: f64,
    /// General-cloud spend per cloud unit (× size) at price index 1, US$ M per month.
    pub cloud_musd_per_unit: f64,
    /// Utility of the on-premises option at tick 0 (set at initialisation from its share).
    pub cloud_outside_v0: f64,
    /// Utility of the AI outside option at tick 0.
    pub ai_outside_v0: f64,
    /// Best open-weight quality at tick 0 (self-hosting improves with open weights).
    pub ai_outside_q0: f64,
}

/// What the providers published this tick: prices, offerings and the choice tables.
#[derive(Resource, Debug, Clone, Default)]
pub struct MarketView {
    /// Compute price per provider, US$/GPU-hour.
    pub price: Vec<f64>,
    /// Whether each provider operates.
    pub provider_active: Vec<bool>,
    /// Marketplace margin per provider this month (configured, or set by its owner under
    /// `pricing.margin_rule = "best_response"`).
    pub marketplace_margin: Vec<f64>,
    /// Fraction of capacity free last month, per provider.
    pub free_fraction: Vec<f64>,
    /// Whether each slot is offered.
    pub offered: Vec<bool>,
    /// Quality of each slot's model in that channel.
    pub slot_quality: Vec<f64>,
    /// Price of each slot, US$ per GPU-hour of inference.
    pub slot_price: Vec<f64>,
    /// The lab's model fee in each slot's price, US$ per GPU-hour (0 where it earns none).
    pub slot_fee: Vec<f64>,
    /// Whether each slot is a third-party copy of an open-weight model (a provider hosting an
    /// open-weight lab's model, or a released open model served without a licence): the
    /// `model_hoster` market counts it for the hoster.
    pub slot_open_copy: Vec<bool>,
    /// Best quality on each provider's marketplace.
    pub best_quality: Vec<f64>,
    /// Sampling tables of the AI-option choice.
    pub choice: ChoiceTables,
    /// Sampling tables of the cloud choice (new projects and moves).
    pub cloud: CloudTables,
    /// `exp(−switching cost)` by tenure.
    pub stay_factor: Vec<f64>,
    /// Event probabilities of an enterprise-month.
    pub thresholds: Thresholds,
    /// New cloud units per existing unit in a project.
    pub cloud_project_size: f64,
    /// New AI units per existing unit in a project.
    pub ai_project_size: f64,
    /// Share of a reviewed cloud's units that move.
    pub cloud_move_share: f64,
    /// Consumer surplus of one AI workload over the outside option, US$ per GPU-hour of its
    /// compute (`econ::surplus`: inclusive value over the reference marginal utility of money).
    pub ai_surplus_per_unit: f64,
    /// Consumer surplus of one cloud workload over on-premises, in units of its spend at price
    /// index 1.
    pub cloud_surplus_per_unit: f64,
    /// The AI choice's marginal utility of money at the run's initial offer (per US$/GPU-hour),
    /// the reference of the surplus money metric; 0 until set.
    pub ai_reference_mu0: f64,
    /// The same for the cloud choice (per unit of price index).
    pub cloud_reference_mu0: f64,
    /// This month's reference marginal utility of money over the AI choice's own
    /// (`econ::surplus::reference_ratio`): 1 at the initial offer; above 1, the US$ surplus
    /// understates what a price change is worth at this month's prices.
    pub ai_reference_ratio: f64,
    /// The same for the cloud choice.
    pub cloud_reference_ratio: f64,
    /// This month's own marginal utility of money of the AI choice (`econ::surplus::Valuation`),
    /// utility per US$ per GPU-hour.
    pub ai_marginal_utility: f64,
    /// The same for the cloud choice, utility per unit of price index.
    pub cloud_marginal_utility: f64,
    /// General-cloud price index per provider this month (1 = the market average at the start).
    pub cloud_index: Vec<f64>,
    /// General-cloud unit cost per provider, in index units: implied in the first month from
    /// the configured indices (`econ::cloud_prices::implied_costs`); empty until then.
    pub cloud_cost: Vec<f64>,
}

/// Enterprise holdings, kept incrementally in integers (Σ size × workload units).
#[derive(Resource, Debug, Clone, Default)]
pub struct Holdings {
    /// Per provider, then on-premises (last).
    pub cloud: Vec<u64>,
    /// Per option slot, then outside (last).
    pub ai: Vec<u64>,
    /// This month's flows and counts.
    pub month: Tally,
    /// Enterprises using at least two clouds.
    pub multi_cloud: u64,
    /// Enterprises using models of at least three labs.
    pub multi_model: u64,
    /// Enterprises using any AI option.
    pub ai_users: u64,
}

impl Holdings {
    /// Empty holdings for `n_providers` providers and `n_slots` option slots.
    pub fn new(n_providers: usize, n_slots: usize) -> Holdings {
        Holdings {
            cloud: vec![0; n_providers + 1],
            ai: vec![0; n_slots + 1],
            month: Tally::new(n_providers, n_slots),
            multi_cloud: 0,
            multi_model: 0,
            ai_users: 0,
        }
    }

    /// Applies a pass's changes and keeps its flows as this month's.
    pub fn apply(&mut self, tally: Tally) {
        for (h, d) in self.cloud.iter_mut().zip(&tally.cloud) {
            *h = h.checked_add_signed(*d).expect("cloud holdings stay non-negative");
        }
        for (h, d) in self.ai.iter_mut().zip(&tally.ai) {
            *h = h.checked_add_signed(*d).expect("AI holdings stay non-negative");
        }
        let count = |h: &mut u64, d: i64| *h = h.checked_add_signed(d).expect("counts stay non-negative");
        count(&mut self.multi_cloud, tally.multi_cloud);
        count(&mut self.multi_model, tally.multi_model);
        count(&mut self.ai_users, tally.ai_users);
        self.month = tally;
    }

    /// Σ size·units on option slot k.
    pub fn ai_on(&self, slot: usize) -> u64 {
        self.ai[slot]
    }
}

/// Money and compute flows of one tick, computed in settlement.
#[derive(Resource, Debug, Clone, Default)]
pub struct Settlement(pub Flows);

impl std::ops::Deref for Settlement {
    type Target = Flows;
    fn deref(&self) -> &Flows {
        &self.0
    }
}

/// A (market, agent) row of the share table.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareRow {
    /// The market.
    pub market: Market,
    /// Agent name (provider id, lab id or `self:<lab>`).
    pub agent: String,
    /// Who owns the agent: a lab's owning provider this month (`labs.<id>.owner`, or an
    /// acquirer), else the agent itself; for `self:<lab>`, the lab's owner or the lab.
    pub owner: String,
    /// Whether the agent is a fringe aggregate (`fringe = true`), left out of HHI and CR-n.
    pub fringe: bool,
    /// Share in [0, 1].
    pub share: f64,
    /// Underlying amount (US$ M per month, or kGPU for `compute`).
    pub amount: f64,
    /// Underlying quantity (cloud: workload units; AI markets and compute: kGPU).
    pub quantity: f64,
    /// Share of the market's quantity (so a price change cannot pass for a share gain).
    pub quantity_share: f64,
    /// Share of this month's new-project spend (the margin that moves the market); `None` for
    /// the compute market.
    pub new_share: Option<f64>,
}

/// One provider's or lab's row of the agent table.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRow {
    /// `provider` or `lab`.
    pub kind: &'static str,
    /// Agent id.
    pub agent: String,
    /// Its corporate owner this month (as in `shares.csv`: `providers.<id>.owner`, a lab's
    /// owning provider's owner, else the agent itself).
    pub owner: String,
    /// Compute price (providers) or direct-API price (labs), US$/GPU-hour.
    pub price: f64,
    /// Capacity (providers) or own data-centre capacity (labs), kGPU.
    pub capacity_kgpu: f64,
    /// Served compute over capacity (providers) or served fraction of demand (labs).
    pub utilisation: f64,
    /// Revenue, US$ M per month.
    pub revenue_musd: f64,
    /// Providers: share of enterprise AI spend ending as its revenue.
    pub rent_share: Option<f64>,
    /// Labs: model quality.
    pub quality: Option<f64>,
    /// Labs: largest provider's share of its compute.
    pub dependency: Option<f64>,
    /// Compute used (labs) or served (providers), kGPU.
    pub compute_kgpu: f64,
    /// Unit cost: a provider's cost per GPU-hour this month; a lab's average hosting cost of
    /// its direct API, US$/GPU-hour.
    pub unit_cost: f64,
    /// Profit: revenue − variable cost − depreciation (providers); enterprise-derived revenue
    /// after revenue shares − compute bills − own data-centre cost (labs), US$ M per month.
    pub profit_musd: f64,
    /// Lerner index (price − unit cost) / price of its compute (providers) or direct API (labs).
    pub lerner: f64,
    /// Providers: general-cloud price index this month.
    pub cloud_price_index: Option<f64>,
    /// Providers: general-cloud Lerner index (index − implied unit cost) / index.
    pub cloud_lerner: Option<f64>,
    /// Providers: marketplace margin over the compute price this month.
    pub marketplace_margin: Option<f64>,
}

/// Everything measured at the end of a tick.
#[derive(Resource, Debug, Clone, Default)]
pub struct TickReport {
    /// Tick.
    pub tick: u32,
    /// Month, `YYYY-MM`.
    pub date: String,
    /// The run-level series this month.
    pub metrics: MetricValues,
    /// Shares per market and agent.
    pub shares: Vec<ShareRow>,
    /// Per-agent rows.
    pub agents: Vec<AgentRow>,
}

/// The first error that made the run invalid (an event that could not apply, a non-finite
/// value); the driver stops the run and reports it.
#[derive(Resource, Debug, Clone, Default)]
pub struct Fault(pub Option<String>);
