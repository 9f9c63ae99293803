//! The world as events see it: exactly the operations event effects need, so that the kinds
//! depend on this trait and not on the simulation that implements it (`crate::sim::events`).

use crate::config::{Config, Market, Metric};
use crate::econ::contracts::Contract;
use crate::econ::policy::Regulation;

/// What an event may read and change. Agents are addressed by index (config order); an index
/// that names no agent is ignored by the setters.
pub trait EventWorld {
    /// Index of the lab with this id.
    fn lab_index(&self, id: &str) -> Option<usize>;

    /// Index of the provider with this id.
    fn provider_index(&self, id: &str) -> Option<usize>;

    /// The current tick.
    fn tick(&self) -> u32;

    /// Tick of a `YYYY-MM` month relative to the run's start (validated months only).
    fn tick_of(&self, month: &str) -> i64;

    /// The live parameters of the run.
    fn config(&self) -> &Config;

    /// The live parameters of the run, to change them.
    fn config_mut(&mut self) -> &mut Config;

    /// All contracts, in config order followed by contracts created by events.
    fn contracts(&mut self) -> &mut Vec<Contract>;

    /// Regulation and exogenous shocks in force.
    fn regulation(&mut self) -> &mut Regulation;

    /// A lab's model quality now.
    fn lab_quality(&mut self, lab: usize) -> Option<f64>;

    /// Sets the provider owning a lab (first-party).
    fn set_lab_owner(&mut self, lab: usize, owner: Option<usize>);

    /// Sets whether a lab lists on open marketplaces.
    fn set_lab_listing(&mut self, lab: usize, listed: bool);

    /// Sets the quality gap of a lab's released open-weight model.
    fn set_open_weight_gap(&mut self, lab: usize, gap: f64);

    /// A dormant lab starts operating.
    fn activate_lab(&mut self, lab: usize);

    /// A dormant provider starts operating and receives `ramp_kgpu_per_month` of extra capacity
    /// in each of the next `ramp_months` months.
    fn activate_provider(&mut self, provider: usize, ramp_kgpu_per_month: f64, ramp_months: u32);

    /// Multiplies a provider's capacity in service by `factor`.
    fn scale_capacity(&mut self, provider: usize, factor: f64);

    /// Multiplies enterprise AI demand by `factor`.
    fn scale_ai_demand(&mut self, factor: f64);

    /// Last month's value of a run-level metric.
    fn last_metric(&self, metric: Metric) -> f64;

    /// Last month's share of `agent` in `market` (0 when it has none).
    fn last_share(&self, market: Market, agent: &str) -> f64;

    /// The provider owning a lab now (first-party), if any.
    fn lab_owner(&mut self, lab: usize) -> Option<usize>;

    /// Last month's agents of `market` as a merger review sees them: owner, fringe flag,
    /// share, mean price and Lerner index (where the market has them).
    fn last_market(&self, market: Market) -> Vec<crate::econ::merger::Agent>;

    /// Last month's share of the market's outside option among all choosers (AI markets: AI
    /// workloads outside the market; cloud: on-premises; compute: 0, the labs' allocation has
    /// none).
    fn last_outside_share(&self, market: Market) -> f64;
    // --- lab finances (issue 10 §3) ---
    /// Adds `amount` to a lab's cash (a funding round), US$ M.
    fn add_lab_cash(&mut self, lab: usize, amount: f64);
}
