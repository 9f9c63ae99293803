//! The typed configuration: every parameter of a run, one documented field each.
//!
//! A config file is TOML that deserialises into [`Config`]; unknown keys are rejected. Agents
//! (providers, labs, contracts) are tables keyed by a short id (`[providers.aws]`), so that every
//! parameter has a stable dotted path (`providers.aws.egress_fee`) usable by `--set`, sweeps and
//! events. File order of the agent tables is kept and is the agents' index order.
//!
//! Units: compute in thousand GPU-equivalents (kGPU, H100-class) held for one month; prices in
//! US$ per GPU-hour; money flows in US$ million per month; utilities in logit units.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::events::EventSpec;

/// A whole run: horizon, population, behavioural parameters, agents, contracts and events.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Horizon, seed and population size.
    pub run: RunSection,
    /// Enterprise behaviour: review, choice and switching parameters.
    pub enterprise: EnterpriseSection,
    /// Aggregate demand paths.
    pub demand: DemandSection,
    /// Lab behaviour common to all labs: allocation and quality technology.
    pub lab_behaviour: LabBehaviour,
    /// How sellers set prices, and how costs move.
    pub pricing: PricingSection,
    /// Cloud providers by id, in index order.
    pub providers: IndexMap<String, ProviderConfig>,
    /// AI labs by id, in index order.
    pub labs: IndexMap<String, LabConfig>,
    /// Lab–provider contracts by id.
    #[serde(default)]
    pub contracts: IndexMap<String, ContractConfig>,
    /// Partial (minority) equity stakes between owners, for the O'Brien–Salop MHHI.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stakes: Vec<StakeConfig>,
    /// Dated or triggered changes to the world (see `docs/MODEL.md`, "Events").
    #[serde(default)]
    pub events: Vec<EventSpec>,
}

/// Horizon, seed and population.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// First simulated month, `YYYY-MM`. Tick 0 is this month.
    pub start: String,
    /// Number of monthly ticks, ≥ 1.
    pub ticks: u32,
    /// Master seed of the run; every random draw derives from it.
    pub seed: u64,
    /// Number of enterprise agents, ≥ 1.
    pub enterprises: u32,
}

/// Enterprise projects, reviews, choice and switching parameters (logit units unless stated).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseSection {
    /// Monthly probability of reviewing the primary AI vendor, in [0, 1].
    pub review_probability: f64,
    /// Monthly probability of reviewing one cloud's workloads (moving some elsewhere), in [0, 1].
    pub cloud_review_probability: f64,
    /// Monthly probability of a new cloud project, and separately of a new AI project, in (0, 1].
    pub project_probability: f64,
    /// Mean share of a reviewed cloud's workload units that move when the enterprise moves them
    /// (the share is uniform on (0, 2·this], capped at 1), in (0, 1].
    pub cloud_move_share: f64,
    /// Cloud projects each enterprise holds at tick 0 (1 to 16).
    pub initial_cloud_projects: u32,
    /// AI projects each enterprise holds at tick 0 (1 to 16).
    pub initial_ai_projects: u32,
    /// Workload units of each initial project (1 to 1,000).
    pub initial_project_units: u32,
    /// Share of an enterprise's initial AI units in its first (primary) project, in (0, 1].
    pub initial_primary_share: f64,
    /// Pareto tail index of enterprise size (> 0).
    pub size_pareto_alpha: f64,
    /// Largest enterprise size relative to the smallest (truncation of the Pareto tail), ≥ 1.
    pub size_max_ratio: f64,
    /// Utility per unit of model quality (quality is log effective training compute).
    pub quality_weight: f64,
    /// Utility per unit of log price of an AI option.
    pub price_weight: f64,
    /// Utility bonus of AI options sold on the marketplace of a cloud holding the enterprise's
    /// workloads (data gravity of AI).
    pub ai_cloud_affinity: f64,
    /// Utility bonus, in the placement of a new AI project, of a lab whose models the enterprise
    /// already uses (procurement, contracts and integration already done).
    pub ai_vendor_gravity: f64,
    /// Utility bonus, in the placement of a new cloud project, of a cloud already holding the
    /// enterprise's workloads (data gravity of cloud).
    pub cloud_gravity: f64,
    /// Utility bonus of an AI option sold by the provider whose productivity suite the
    /// enterprise uses, multiplied by that provider's `bundle_strength`.
    pub suite_affinity: f64,
    /// Utility bonus of a lab's direct API over a marketplace channel (≥ 0 or < 0).
    pub direct_api_bonus: f64,
    /// Base switching cost of leaving the current AI option, ≥ 0.
    pub switch_cost_base: f64,
    /// Utility cost per unit of egress fee (fraction of annual spend) when the billing
    /// provider changes, ≥ 0.
    pub egress_weight: f64,
    /// Integration lock-in added per month of tenure on the current option, ≥ 0.
    pub lock_in_per_month: f64,
    /// Tenure (months) beyond which lock-in stops growing, ≥ 0.
    pub lock_in_cap_months: u32,
    /// Utility cost of moving cloud workloads to another cloud or on-premises, ≥ 0.
    pub migration_cost: f64,
    /// Utility per unit of log general-cloud price index in the cloud choice.
    pub cloud_price_weight: f64,
    /// Utility per unit of the best model quality a provider's marketplace offers, in the
    /// cloud choice ("AI pull").
    pub ai_pull_weight: f64,
}

/// Aggregate demand: levels at tick 0, growth of workloads, and the outside options.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DemandSection {
    /// Enterprise AI inference bought in the market at tick 0, kGPU (sets kGPU per AI unit).
    pub ai_inference_kgpu: f64,
    /// Annual growth of enterprise AI workloads (inside and outside the market), > -1.
    pub ai_growth_per_year: f64,
    /// Enterprise general-cloud spend at tick 0, US$ M per month (sets spend per cloud unit).
    pub cloud_spend_musd: f64,
    /// Annual growth of enterprise cloud-able workloads (cloud and on-premises), > -1.
    pub cloud_growth_per_year: f64,
    /// Share of initial cloud projects kept on-premises, in [0, 1).
    pub initial_cloud_outside_share: f64,
    /// Share of new cloud projects going on-premises at tick 0, averaged over enterprises
    /// (weighted by project size), in (0, 1): it sets the outside option's utility `V_0`.
    pub cloud_outside_share: f64,
    /// Change of the on-premises option's utility per year (negative: cloud gains), logit units.
    pub cloud_outside_trend_per_year: f64,
    /// Share of new AI projects staying outside the market (no AI, self-hosted) at tick 0,
    /// averaged over enterprises, in (0, 1): it sets the AI outside utility. The outside option
    /// improves with the best open-weight model (`quality_weight` × its quality gain).
    pub ai_outside_share: f64,
    /// Change of the AI outside option's utility per year, logit units.
    pub ai_outside_trend_per_year: f64,
    /// The on-premises option's utility at tick 0, logit units: when given, it is used as it is
    /// and `cloud_outside_share` is not targeted (to compare specifications from one calibration:
    /// a run's calibrated value is in its manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_outside_utility: Option<f64>,
    /// The AI outside option's utility at tick 0, logit units: when given, used as it is and
    /// `ai_outside_share` is not targeted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_outside_utility: Option<f64>,
}

/// Lab behaviour shared by all labs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabBehaviour {
    /// Monthly obsolescence of the effective training-compute stock, in [0, 1].
    pub stock_depreciation: f64,
    /// Share of the gap to the allocation target closed each month, in (0, 1].
    pub allocation_speed: f64,
    /// Utility per unit of log effective price of a host.
    pub host_price_weight: f64,
    /// Utility per unit of log free-capacity fraction of a host.
    pub free_capacity_weight: f64,
    /// Dependency aversion: utility cost per unit of a host's current share of the lab's compute.
    pub dependency_aversion: f64,
    /// Fraction of training output lost per unit of training compute moved between hosts.
    pub move_penalty: f64,
    /// Share of lab revenue reinvested in training compute, in [0, 1].
    pub reinvest_share: f64,
    /// Minimum share of a first-party lab's rented compute on its owner, in [0, 1].
    pub owner_min_share: f64,
    // --- contracts that bind (issue 10 §2) ---
    /// Months over which a lab spreads an unspent credit balance: it draws at most
    /// `credits / credit_draw_months` a month, in [1, 1200] (absent: 12).
    #[serde(default = "default_credit_draw_months")]
    pub credit_draw_months: f64,
    // --- lab finances (issue 10 §3) ---
    /// Months over which a lab spends its cash: it adds `cash / cash_runway_months` to its
    /// monthly budget (a negative balance is repaid at that rate), in [1, 1200] (absent: 24).
    #[serde(default = "default_cash_runway_months")]
    pub cash_runway_months: f64,
}

/// Two years: labs raise rounds for about two years of burn (assumption).
fn default_cash_runway_months() -> f64 {
    24.0
}

/// A lab's funding round (issue 10 §3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FundingRound {
    /// Money raised, US$ M, ≥ 0.
    pub amount_musd: f64,
    /// Where the figure comes from (shown in the event log).
    #[serde(default)]
    pub source: String,
}

/// A year: credits arrive as tranches of multi-year investments (assumption).
fn default_credit_draw_months() -> f64 {
    12.0
}

/// How providers set their compute prices.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PricingRule {
    /// Each month a damped best response to the labs' allocation logit (Bertrand–Nash with
    /// installed base, forward-looking value of customers won, and capacity shadow prices).
    BestResponse,
    /// The first version's rule: the price follows the provider's own utilisation gap.
    Utilisation,
}

/// How labs set their model fees.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FeeRule {
    /// Fees are `labs.<id>.model_fee` (and `set` events of it).
    #[default]
    Configured,
    /// The run starts at the fee equilibrium and each month every lab owner moves its fees a
    /// damped step towards its best response to the enterprise AI logit (`econ::model_fees`).
    BestResponse,
}

/// How providers set their general-cloud price indices.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CloudPriceRule {
    /// Indices are `providers.<id>.cloud_price_index` (and `set` events of it).
    #[default]
    Configured,
    /// The configured indices are the first month's equilibrium (unit costs are implied from
    /// them) and each month every provider owner moves its index a damped step towards its best
    /// response to the enterprise cloud logit (`econ::cloud_prices`).
    BestResponse,
}

/// How providers set their marketplace margins.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MarginRule {
    /// Margins are `providers.<id>.marketplace_margin` (and `set` events of it).
    #[default]
    Configured,
    /// The first month is at the joint equilibrium of margins and fees, and each month every
    /// provider owner moves its margins a damped step towards its best response to the
    /// enterprise AI logit (`econ::marketplace_margins`).
    BestResponse,
}

/// Price setting and cost paths (see `docs/MODEL.md`, "Prices and costs").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PricingSection {
    /// How providers set compute prices.
    pub rule: PricingRule,
    /// How labs set model fees (default: as configured).
    #[serde(default)]
    pub fee_rule: FeeRule,
    /// How providers set general-cloud price indices (default: as configured).
    #[serde(default)]
    pub cloud_price_rule: CloudPriceRule,
    /// How providers set marketplace margins (default: as configured).
    #[serde(default)]
    pub margin_rule: MarginRule,
    /// Share of the gap to the best response closed each month, in (0, 1].
    pub damping: f64,
    /// Sellers' annual discount rate, ≥ 0: the value of a customer won now.
    pub discount_rate_per_year: f64,
    /// Whether sellers value the future margin of customers won now (Klemperer's invest motive).
    pub forward_looking: bool,
    /// Annual change of the cost per unit of effective compute (negative: costs fall), > −1.
    pub cost_trend_per_year: f64,
    /// Purchase price of one GPU-equivalent, US$ (capex).
    pub capex_per_gpu_usd: f64,
    /// Straight-line depreciation life of a GPU, years, > 0.
    pub depreciation_years: f64,
    /// Highest price a best response may set, as a multiple of the seller's unit cost, > 1.
    pub max_price_ratio: f64,
}

/// How a provider's marketplace admits other labs' models.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MarketplacePolicy {
    /// A neutral marketplace: hosts every lab that lists on open marketplaces.
    Open,
    /// Only its own first-party lab, licensed partners and open-weight models.
    PartnersOnly,
}

/// One cloud provider.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Display name.
    pub name: String,
    /// Share of enterprise cloud spend homed on this provider at tick 0; all sum to 1.
    pub home_share: f64,
    /// AI compute capacity at tick 0, kGPU, ≥ 0.
    pub capacity_kgpu: f64,
    /// Unit cost, US$ per GPU-hour (price floor), > 0.
    pub unit_cost: f64,
    /// Price at tick 0, US$ per GPU-hour, ≥ unit_cost.
    pub price: f64,
    /// Monthly proportional price response per unit of utilisation above target, ≥ 0.
    pub price_response: f64,
    /// Utilisation the provider aims for, in (0, 1].
    pub target_utilisation: f64,
    /// Baseline monthly capacity growth ordered, as a fraction of capacity, ≥ 0.
    pub invest_rate: f64,
    /// Extra monthly capacity ordered per unit of utilisation above target, ≥ 0.
    pub invest_response: f64,
    /// Months from order to capacity in service, ≥ 0.
    pub build_lag_months: u32,
    /// Egress/switching fee charged to leaving customers, as a fraction of annual spend, ≥ 0.
    pub egress_fee: f64,
    /// Strength of the productivity-suite bundle (0 = no suite), ≥ 0.
    pub bundle_strength: f64,
    /// Share of enterprises using this provider's productivity suite, in [0, 1]; sum ≤ 1.
    pub suite_share: f64,
    /// Home-choice penalty on rival clouds for this provider's suite users (licensing), ≥ 0.
    pub licensing_penalty: f64,
    /// Marketplace policy for other labs' models.
    pub marketplace: MarketplacePolicy,
    /// Marketplace margin over the compute price, ≥ 0.
    pub marketplace_margin: f64,
    /// General-cloud price index (1 = market average), > 0.
    pub cloud_price_index: f64,
    /// Home-choice utility constant (brand, breadth of services).
    pub brand: f64,
    /// An aggregate of many small firms: counted in market totals, but atomistic in HHI and
    /// CR-n (as trackers compute HHI over named firms).
    #[serde(default)]
    pub fringe: bool,
    /// First month of operation (`YYYY-MM`); absent = operating from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// Corporate owner (e.g. `alphabet`); absent = the provider itself. Providers with one
    /// owner price jointly and count as one firm in owner-level concentration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// One AI lab.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabConfig {
    /// Display name.
    pub name: String,
    /// Effective training-compute stock at tick 0, kGPU-months, > 0. Quality = ln(stock).
    pub compute_stock: f64,
    /// Training budget at tick 0 (for a lab entering later: at entry), US$ M per month, ≥ 0.
    pub training_budget_musd: f64,
    /// Annual growth of the training budget, > -1.
    pub budget_growth_per_year: f64,
    // --- lab finances (issue 10 §3) ---
    /// Cash at tick 0 (rounds raised before the run and not yet spent), US$ M, ≥ 0 (absent: 0).
    #[serde(default)]
    pub initial_cash_musd: f64,
    /// Dated funding rounds (`"YYYY-MM" = { amount_musd, source }`), added to cash in that month;
    /// months after the run are ignored.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub funding: std::collections::BTreeMap<String, FundingRound>,
    /// Model fee charged on top of compute, US$ per GPU-hour of inference, ≥ 0.
    pub model_fee: f64,
    /// Whether the lab sells through its own direct API.
    pub direct_api: bool,
    /// Whether the lab lists its models on every open marketplace.
    pub marketplace_listing: bool,
    /// Whether the lab's models are open weights (any provider may host them).
    pub open_weight: bool,
    /// Quality gap of the lab's open-weight release below its frontier model, ≥ 0 (used
    /// once the lab releases open weights).
    pub open_weight_gap: f64,
    /// Provider that owns this lab (first-party lab), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Enterprise-choice utility constant (brand, ecosystem).
    pub brand: f64,
    /// An aggregate of many small developers (e.g. the open-weight community): counted in
    /// market totals, atomistic in HHI and CR-n.
    #[serde(default)]
    pub fringe: bool,
    /// Lab-owned data-centre capacity at tick 0, kGPU, ≥ 0.
    pub own_capacity_kgpu: f64,
    /// Unit cost of own capacity, US$ per GPU-hour, > 0.
    pub own_unit_cost: f64,
    /// Initial share of the lab's rented compute on each provider (sums to 1 if given);
    /// absent = spread by the allocation logit at tick 0.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub initial_hosts: IndexMap<String, f64>,
    /// First month of operation (`YYYY-MM`); absent = operating from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
}

/// One lab–provider contract.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContractConfig {
    /// Lab id.
    pub lab: String,
    /// Provider id.
    pub provider: String,
    /// First month the contract applies (`YYYY-MM`); absent = from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Last month the contract applies (`YYYY-MM`); absent = open-ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Unspent compute credits at the start, US$ M, usable only on this provider, ≥ 0.
    #[serde(default)]
    pub credits_musd: f64,
    /// Share of the lab's revenue paid to the provider, in [0, 1].
    #[serde(default)]
    pub revenue_share: f64,
    /// Revenue share stops once this much has been paid, US$ M (0 = no cap), ≥ 0.
    #[serde(default)]
    pub revenue_share_cap_musd: f64,
    /// Minimum share of the lab's rented compute on this provider (exclusivity), in [0, 1].
    #[serde(default)]
    pub min_compute_share: f64,
    // --- contracts that bind (issue 10 §2) ---
    /// Right of first refusal: the provider may match an outside allocation at the outside price.
    #[serde(default)]
    pub rofr: bool,
    /// Share of the lab's monthly profit paid to the provider, in [0, 1].
    #[serde(default)]
    pub profit_share: f64,
    /// Profit share stops once this much has been paid ("until the investment is repaid"),
    /// US$ M (0 = no cap), ≥ 0.
    #[serde(default)]
    pub profit_share_cap_musd: f64,
    /// Last month the exclusivity floor applies (`YYYY-MM`); absent = while the contract runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusivity_end: Option<String>,
    /// Committed compute spend (take-or-pay), US$ M per month, ≥ 0.
    #[serde(default)]
    pub commitment_musd: f64,
    /// Whether the provider may resell the lab's models in its own marketplace.
    #[serde(default)]
    pub licence: bool,
    /// Whether this licence is exclusive: no other marketplace may resell the lab's
    /// non-open models.
    #[serde(default)]
    pub licence_exclusive: bool,
}

// ---- Ownership (owners and partial stakes) ----

/// A partial equity stake of an owner in a provider or lab (`[[stakes]]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StakeConfig {
    /// The holder: an owner name (a provider's `owner`, or an independent agent's id).
    pub owner: String,
    /// The provider or lab id the stake is in.
    pub target: String,
    /// β: the holder's share of the target's profit, in (0, 1).
    pub share: f64,
    /// γ: the holder's share of control over the target, in [0, 0.5]; absent = `share`
    /// (proportional control). A controlling stake is ownership (an acquisition or
    /// `providers.<id>.owner`), not a stake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<f64>,
    /// Where the figure comes from (free text, e.g. "DATA.md §3").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl StakeConfig {
    /// γ: the stake's control weight (its financial share under proportional control).
    pub fn control_weight(&self) -> f64 {
        self.control.unwrap_or(self.share)
    }
}

impl Config {
    /// The corporate owner of provider `i`: its `owner`, or its id.
    pub fn provider_owner(&self, i: usize) -> &str {
        let (id, p) = self.providers.get_index(i).expect("a provider index");
        p.owner.as_deref().unwrap_or(id)
    }

    /// The corporate owner of lab `l` when its owning provider (first-party) is `owning`:
    /// that provider's owner, or the lab's id.
    pub fn lab_owner(&self, l: usize, owning: Option<usize>) -> &str {
        match owning {
            Some(p) => self.provider_owner(p),
            None => self.labs.get_index(l).expect("a lab index").0,
        }
    }

    /// The owner of an agent id at the start of the run (a provider's owner, a lab's owning
    /// provider's owner, or the id), if the id names an agent.
    pub fn initial_owner_of(&self, id: &str) -> Option<&str> {
        if let Some(i) = self.providers.get_index_of(id) {
            return Some(self.provider_owner(i));
        }
        let l = self.labs.get_index_of(id)?;
        let owning = self.labs[l].owner.as_ref().and_then(|o| self.providers.get_index_of(o));
        Some(self.lab_owner(l, owning))
    }

    /// Every owner name at the start of the run, in agent order, without repeats.
    pub fn owner_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for id in self.providers.keys().chain(self.labs.keys()) {
            if let Some(o) = self.initial_owner_of(id)
                && !out.contains(&o)
            {
                out.push(o);
            }
        }
        out
    }

    /// The first provider owned by `owner`, if any.
    pub fn first_provider_of(&self, owner: &str) -> Option<usize> {
        (0..self.providers.len()).find(|&i| self.provider_owner(i) == owner)
    }
}
