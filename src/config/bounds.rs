//! Upper bounds of every numeric parameter, in one table, and the check that a run's exogenous
//! paths and feedbacks cannot overflow a double within its horizon.
//!
//! [`validate`](super::validate) checks the signs and unit ranges of each parameter; this table
//! adds the largest value that still makes sense, with the reason, so that impossible work is
//! refused before it starts (a 10^9-enterprise population, a 4·10^9-month build lag that would
//! allocate a slot per month, a price of 10^308) instead of aborting or failing mid-run.
//!
//! **Adding a parameter:** add one line to [`BOUNDS`]. Keys are dotted paths of the resolved
//! config where `*` stands for any agent id; event fields are `events.<kind>.<field>` (also for
//! the actions of an investigation's `remedy`), trigger fields `events.*.<field>`. A unit test
//! fails for any numeric key of the baseline or of an event kind that has no line here.

use super::validate::Checker;
use super::{Config, ConfigError, to_table};

/// The allowed range of one parameter and why it is bounded there.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// Dotted key pattern (`providers.*.price`, `events.demand_shock.factor`).
    pub key: &'static str,
    /// Smallest allowed value (−∞ where `validate` already checks the lower end).
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
    /// Why larger values make no sense (shown in the error and in README).
    pub why: &'static str,
}

const NO: f64 = f64::NEG_INFINITY;

/// `key ≤ max`.
const fn up(key: &'static str, max: f64, why: &'static str) -> Bound {
    Bound { key, min: NO, max, why }
}

/// `|key| ≤ max`.
const fn abs(key: &'static str, max: f64, why: &'static str) -> Bound {
    Bound {
        key,
        min: -max,
        max,
        why,
    }
}

const UTILITY: &str = "a utility weight of 100 logit units already makes every choice deterministic";
const PROB: &str = "a probability or share";
const PRICE_WEIGHT: &str = "consumer surplus in US$ divides by the marginal utility of money, which needs a price weight above 0 (at 0.01 a doubling of every price costs 0.007 logit units, demand is almost inelastic); 100 logit units already make every choice deterministic";
const MONEY: &str = "US$ 10^15 a year is ten times world GDP";
const KGPU: &str = "10^9 kGPU is 10^12 GPUs, a thousand times all GPUs ever made";
const PRICE: &str = "1,000 US$ per GPU-hour is 300 times today's hyperscaler price";
const GROWTH: &str = "growth of 10/yr multiplies by 11 each year; no market sustains more";
const MONTHS: &str = "1,200 months is a century; the model keeps one slot per month";
const HORIZON: &str = "2,400 months is the longest run";
/// `min ≤ key ≤ max`.
const fn within(key: &'static str, min: f64, max: f64, why: &'static str) -> Bound {
    Bound { key, min, max, why }
}

const COST: &str = "from a tenth of a cent to 1,000 US$ per GPU-hour (about 300 times today's hyperscaler price)";
const ANY: &str = "only compared with measured values; any finite value is harmless";

/// The table of bounds, one line per key.
pub const BOUNDS: &[Bound] = &[
    up(
        "run.ticks",
        2_400.0,
        "200 years: the model is calibrated on a 10-year horizon, and longer runs overflow compounding growth",
    ),
    up("run.seed", i64::MAX as f64, "a TOML integer"),
    up(
        "run.enterprises",
        5e7,
        "5·10^7 agents is more than every firm in the OECD, and needs about 5 GB",
    ),
    up("enterprise.review_probability", 1.0, PROB),
    up("enterprise.cloud_review_probability", 1.0, PROB),
    up("enterprise.project_probability", 1.0, PROB),
    up("enterprise.cloud_move_share", 1.0, PROB),
    up(
        "enterprise.initial_cloud_projects",
        16.0,
        "more initial projects than this only refine the initial footprint",
    ),
    up(
        "enterprise.initial_ai_projects",
        16.0,
        "more initial projects than this only refine the initial footprint",
    ),
    up(
        "enterprise.initial_project_units",
        1_000.0,
        "units are a granularity; units are held in 16 bits",
    ),
    up("enterprise.initial_primary_share", 1.0, PROB),
    up(
        "enterprise.size_pareto_alpha",
        100.0,
        "above 100 every enterprise has the smallest size",
    ),
    up(
        "enterprise.size_max_ratio",
        1e9,
        "a firm 10^9 times the smallest is larger than any economy",
    ),
    abs("enterprise.quality_weight", 100.0, UTILITY),
    within("enterprise.price_weight", 0.01, 100.0, PRICE_WEIGHT),
    abs("enterprise.ai_cloud_affinity", 100.0, UTILITY),
    abs("enterprise.ai_vendor_gravity", 100.0, UTILITY),
    abs("enterprise.cloud_gravity", 100.0, UTILITY),
    abs("enterprise.suite_affinity", 100.0, UTILITY),
    abs("enterprise.direct_api_bonus", 100.0, UTILITY),
    up("enterprise.switch_cost_base", 100.0, UTILITY),
    up(
        "enterprise.egress_weight",
        1_000.0,
        "with fees ≤ 10 (ten years of spend) the cost stays ≤ 10^4 logit units",
    ),
    up("enterprise.lock_in_per_month", 100.0, UTILITY),
    up(
        "enterprise.lock_in_cap_months",
        240.0,
        "tenure is kept in a byte; lock-in beyond 20 years is no decision anyone takes",
    ),
    up("enterprise.migration_cost", 100.0, UTILITY),
    within("enterprise.cloud_price_weight", 0.01, 100.0, PRICE_WEIGHT),
    abs("enterprise.ai_pull_weight", 100.0, UTILITY),
    up("demand.ai_inference_kgpu", 1e9, KGPU),
    up("demand.ai_growth_per_year", 10.0, GROWTH),
    up("demand.cloud_spend_musd", 1e9, MONEY),
    up("demand.cloud_growth_per_year", 10.0, GROWTH),
    up("demand.initial_cloud_outside_share", 1.0, PROB),
    up("demand.cloud_outside_share", 1.0, PROB),
    abs(
        "demand.cloud_outside_trend_per_year",
        10.0,
        "10 logit units a year turns the outside option from never to always chosen within months",
    ),
    up("demand.ai_outside_share", 1.0, PROB),
    abs("demand.cloud_outside_utility", 100.0, UTILITY),
    abs("demand.ai_outside_utility", 100.0, UTILITY),
    abs(
        "demand.ai_outside_trend_per_year",
        10.0,
        "10 logit units a year turns the outside option from never to always chosen within months",
    ),
    up("lab_behaviour.stock_depreciation", 1.0, PROB),
    up("lab_behaviour.allocation_speed", 1.0, PROB),
    abs("lab_behaviour.host_price_weight", 100.0, UTILITY),
    abs("lab_behaviour.free_capacity_weight", 100.0, UTILITY),
    up("lab_behaviour.dependency_aversion", 100.0, UTILITY),
    up("lab_behaviour.move_penalty", 1.0, PROB),
    up("lab_behaviour.reinvest_share", 1.0, PROB),
    up("lab_behaviour.owner_min_share", 1.0, PROB),
    up("lab_behaviour.credit_draw_months", 1_200.0, MONTHS),
    up("lab_behaviour.cash_runway_months", 1_200.0, MONTHS),
    up("pricing.damping", 1.0, "the share of a gap closed in a month"),
    up(
        "pricing.discount_rate_per_year",
        10.0,
        "a discount rate of 1,000 %/yr values nothing beyond this month",
    ),
    within("pricing.cost_trend_per_year", -0.9, 10.0, GROWTH),
    up(
        "pricing.capex_per_gpu_usd",
        1e7,
        "US$ 10 M per GPU is 300 times an H100's price",
    ),
    within(
        "pricing.depreciation_years",
        0.1,
        100.0,
        "a GPU is not written off over more than a century",
    ),
    up(
        "pricing.max_price_ratio",
        1_000.0,
        "a price 1,000 times cost is no longer a price a buyer pays",
    ),
    up("providers.*.home_share", 1.0, PROB),
    up("providers.*.capacity_kgpu", 1e9, KGPU),
    within("providers.*.unit_cost", 0.001, 1_000.0, COST),
    within("providers.*.price", 0.001, 1_000.0, COST),
    up(
        "providers.*.price_response",
        1.0,
        "a response of 1 already moves the price by up to 200 % a month",
    ),
    up("providers.*.target_utilisation", 1.0, PROB),
    up("providers.*.invest_rate", 1.0, "1 doubles capacity every month"),
    up(
        "providers.*.invest_response",
        10.0,
        "10 orders up to 20 times capacity in one month",
    ),
    up(
        "providers.*.build_lag_months",
        120.0,
        "no data centre takes ten years to build; the pipeline keeps a slot per month",
    ),
    up("providers.*.egress_fee", 10.0, "a fee of ten years of spend"),
    up("providers.*.bundle_strength", 100.0, UTILITY),
    up("providers.*.suite_share", 1.0, PROB),
    up("providers.*.licensing_penalty", 100.0, UTILITY),
    up(
        "providers.*.marketplace_margin",
        100.0,
        "a margin of 100 times the compute price",
    ),
    within(
        "providers.*.cloud_price_index",
        0.001,
        1_000.0,
        "from a thousandth to 1,000 times the market's average cloud price (the index enters as a log, and spend as a factor)",
    ),
    abs("providers.*.brand", 100.0, UTILITY),
    up(
        "labs.*.compute_stock",
        1e15,
        "quality ln(10^15) ≈ 35; the baseline's frontier is ≈ 9",
    ),
    up("labs.*.training_budget_musd", 1e9, MONEY),
    up("labs.*.budget_growth_per_year", 10.0, GROWTH),
    up("labs.*.initial_cash_musd", 1e9, MONEY),
    up("labs.*.funding.*.amount_musd", 1e9, MONEY),
    up("labs.*.model_fee", 1_000.0, PRICE),
    up(
        "labs.*.open_weight_gap",
        100.0,
        "quality units: 100 is e^100 times less compute",
    ),
    abs("labs.*.brand", 100.0, UTILITY),
    up("labs.*.own_capacity_kgpu", 1e9, KGPU),
    within("labs.*.own_unit_cost", 0.001, 1_000.0, COST),
    up("labs.*.initial_hosts.*", 1.0, PROB),
    up("contracts.*.credits_musd", 1e9, MONEY),
    up("contracts.*.revenue_share", 1.0, PROB),
    up("contracts.*.revenue_share_cap_musd", 1e9, MONEY),
    up("contracts.*.min_compute_share", 1.0, PROB),
    up("contracts.*.commitment_musd", 1e9, MONEY),
    up("contracts.*.profit_share", 1.0, PROB),
    up("contracts.*.profit_share_cap_musd", 1e9, MONEY),
    up("events.*.tick", 2_400.0, HORIZON),
    up("events.*.delay_months", 2_400.0, HORIZON),
    abs("events.*.when.above", f64::INFINITY, ANY),
    abs("events.*.when.below", f64::INFINITY, ANY),
    abs("events.set.value", f64::INFINITY, "checked as the key it sets"),
    up("events.contract.add_credits_musd", 1e9, MONEY),
    up("events.contract.revenue_share", 1.0, PROB),
    up("events.contract.revenue_share_cap_musd", 1e9, MONEY),
    up("events.contract.min_compute_share", 1.0, PROB),
    up("events.contract.commitment_musd", 1e9, MONEY),
    up("events.contract.profit_share", 1.0, PROB),
    up("events.contract.profit_share_cap_musd", 1e9, MONEY),
    up("events.funding.amount_musd", 1e9, MONEY),
    up(
        "events.open_weights.gap",
        100.0,
        "quality units: 100 is e^100 times less compute",
    ),
    up("events.provider_entry.ramp_kgpu_per_month", 1e9, KGPU),
    up("events.provider_entry.ramp_months", 1_200.0, MONTHS),
    up(
        "events.capacity_shock.factor",
        100.0,
        "a hundredfold capacity overnight",
    ),
    up("events.cap_switching_charges.cap", 10.0, "a fee of ten years of spend"),
    up(
        "events.investigation.threshold",
        10_000.0,
        "the HHI scale ends at 10,000",
    ),
    up("events.investigation.remedy_delay_months", 2_400.0, HORIZON),
    up("events.demand_shock.factor", 100.0, "a hundredfold demand overnight"),
    up("events.gpu_price_cycle.amplitude", 0.99, "the cost must stay positive"),
    up("events.gpu_price_cycle.period_months", 1_200.0, MONTHS),
    // Ownership: stakes and merger review.
    up("stakes.*.share", 1.0, PROB),
    up("stakes.*.control", 1.0, PROB),
    up("events.stake.share", 1.0, PROB),
    up("events.stake.control", 1.0, PROB),
    up(
        "events.acquisition.review.guppi_threshold",
        1.0,
        "GUPPI is a share of the price; 100 % blocks nothing a margin can reach",
    ),
];

/// The bound of a key pattern, if the table has one.
pub fn bound_of(pattern: &[String]) -> Option<&'static Bound> {
    BOUNDS.iter().find(|b| {
        let parts: Vec<&str> = b.key.split('.').collect();
        parts.len() == pattern.len() && parts.iter().zip(pattern).all(|(a, p)| *a == "*" || a == p)
    })
}

/// One numeric leaf of a config: its pattern (agent ids and event kinds as in [`BOUNDS`]), the
/// key to show, and its value.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The pattern segments, e.g. `["providers", "aws", "price"]` (matched with `*`).
    pub pattern: Vec<String>,
    /// The dotted key as a user writes it (`providers.aws.price`, `events[2].factor`).
    pub key: String,
    /// The value.
    pub value: f64,
}

/// Every numeric leaf of a resolved config table.
pub fn numeric_leaves(table: &toml::Table) -> Vec<Leaf> {
    let mut out = Vec::new();
    for (k, v) in table {
        if k == "events" {
            for (i, ev) in v.as_array().into_iter().flatten().enumerate() {
                if let Some(t) = ev.as_table() {
                    event_leaves(t, &format!("events[{i}]"), &mut out);
                }
            }
        } else {
            walk(v, vec![k.clone()], k.clone(), &mut out);
        }
    }
    out
}

fn event_leaves(t: &toml::Table, key: &str, out: &mut Vec<Leaf>) {
    let kind = t.get("kind").and_then(toml::Value::as_str).unwrap_or("?").to_string();
    for (f, v) in t {
        if f == "remedy" {
            for (j, a) in v.as_array().into_iter().flatten().enumerate() {
                if let Some(a) = a.as_table() {
                    event_leaves(a, &format!("{key}.remedy[{j}]"), out);
                }
            }
        } else if f == "value" && kind == "set" {
            // The value of a `set` event is checked as the key it sets (validate's probe).
        } else {
            walk(
                v,
                vec!["events".into(), kind.clone(), f.clone()],
                format!("{key}.{f}"),
                out,
            );
        }
    }
}

fn walk(v: &toml::Value, pattern: Vec<String>, key: String, out: &mut Vec<Leaf>) {
    match v {
        toml::Value::Integer(i) => out.push(Leaf {
            pattern,
            key,
            value: *i as f64,
        }),
        toml::Value::Float(x) => out.push(Leaf {
            pattern,
            key,
            value: *x,
        }),
        toml::Value::Table(t) => {
            for (k, child) in t {
                let mut p = pattern.clone();
                p.push(k.clone());
                walk(child, p, format!("{key}.{k}"), out);
            }
        }
        // Arrays of tables (`[[stakes]]`): the index is the agent segment (`stakes.*.share`).
        toml::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let mut p = pattern.clone();
                p.push(i.to_string());
                walk(child, p, format!("{key}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn bound_for(leaf: &Leaf) -> Option<&'static Bound> {
    bound_of(&leaf.pattern).or_else(|| {
        // Trigger fields (`tick`, `when.above`) are the same for every kind.
        let mut any = leaf.pattern.clone();
        if any.first().map(String::as_str) == Some("events") && any.len() > 1 {
            any[1] = "*".into();
            bound_of(&any)
        } else {
            None
        }
    })
}

/// Checks every numeric parameter against its bound, then the horizon (see [`check_horizon`]).
pub(super) fn check(c: &Config, ck: &Checker) -> Result<(), ConfigError> {
    for leaf in numeric_leaves(&to_table(c)) {
        if let Some(b) = bound_for(&leaf)
            && !(leaf.value >= b.min && leaf.value <= b.max)
        {
            let range = if b.min == NO {
                format!("must be ≤ {}", b.max)
            } else {
                format!("must be in [{}, {}]", b.min, b.max)
            };
            return Err(ck.fail(&leaf.key, format!("{range} ({}), got {}", b.why, shown(leaf.value))));
        }
    }
    check_horizon(c, ck)
}

/// A value as a user would write it: exponent notation for very large or small magnitudes.
fn shown(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-6..1e15).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Natural log of the largest value a double may reach in a run, with room for sums over agents
/// and the few multiplications of a tick (f64::MAX ≈ e^709.8).
const LN_LIMIT: f64 = 680.0;

/// One worst-case term: its natural log and the keys that feed it.
struct Term {
    ln: f64,
    keys: Vec<String>,
}

impl Term {
    fn new(ln: f64, keys: Vec<String>) -> Term {
        Term { ln, keys }
    }
}

/// The largest of `f(x)` over items, with the key of the item that gives it.
fn max_by<'a, T: 'a>(items: impl Iterator<Item = (&'a String, &'a T)>, f: impl Fn(&T) -> f64) -> (f64, String) {
    items.fold((f64::NEG_INFINITY, String::new()), |(best, k), (id, x)| {
        let v = f(x);
        if v > best { (v, id.clone()) } else { (best, k) }
    })
}

/// Refuses a config whose exogenous paths and feedbacks could overflow within its horizon, in
/// the worst case: demand and budgets compounding at their growth rates (and every demand or
/// capacity shock), capacity ordered at its fastest while load exceeds target and compounding at
/// `invest_rate`, and prices rising at their fastest response every month. Provider bills are
/// price × served compute, so `ln price + ln max(capacity, demand)` must stay below
/// [`LN_LIMIT`]. The bound is loose for realistic paths (the baseline is accepted over the
/// longest run, 2,400 months) and tight enough to refuse what cannot finish.
pub(super) fn check_horizon(c: &Config, ck: &Checker) -> Result<(), ConfigError> {
    let ln = |x: f64| x.max(1e-300).ln();
    let t = f64::from(c.run.ticks);
    let years = t / 12.0;
    let ticks = || format!("run.ticks = {}", c.run.ticks);
    let (mut shock_demand, mut shock_capacity, mut ramp, mut amp) = (0.0, 0.0, 0.0f64, 0.0f64);
    fn actions<'a>(a: &'a super::events::Action, out: &mut Vec<&'a super::events::Action>) {
        out.push(a);
        if let super::events::Action::Investigation(i) = a {
            for r in &i.remedy {
                actions(r, out);
            }
        }
    }
    let mut all = Vec::new();
    for ev in &c.events {
        actions(&ev.action, &mut all);
    }
    use super::events::Action;
    for a in all {
        match a {
            Action::DemandShock(d) => shock_demand += ln(d.factor).max(0.0),
            Action::CapacityShock(s) => shock_capacity += ln(s.factor).max(0.0),
            Action::ProviderEntry(p) => ramp += p.ramp_kgpu_per_month * f64::from(p.ramp_months),
            Action::GpuPriceCycle(g) => amp = amp.max(g.amplitude),
            _ => {}
        }
    }

    let demand = Term::new(
        ln(c.demand.ai_inference_kgpu.max(1.0)) + years * ln(1.0 + c.demand.ai_growth_per_year) + shock_demand,
        vec![
            ticks(),
            "demand.ai_growth_per_year".into(),
            "demand.ai_inference_kgpu".into(),
        ],
    );
    let (budget_ln, budget_lab) = max_by(c.labs.iter(), |l| {
        ln(l.training_budget_musd.max(1.0)) + years * ln(1.0 + l.budget_growth_per_year)
    });
    let budget = Term::new(
        budget_ln,
        vec![
            ticks(),
            format!("labs.{budget_lab}.budget_growth_per_year"),
            format!("labs.{budget_lab}.training_budget_musd"),
        ],
    );
    let (cheapest, cheapest_key) = c
        .providers
        .iter()
        .map(|(id, p)| (p.unit_cost * (1.0 - amp), format!("providers.{id}.unit_cost")))
        .chain(
            c.labs
                .iter()
                .map(|(id, l)| (l.own_unit_cost, format!("labs.{id}.own_unit_cost"))),
        )
        .fold((f64::INFINITY, String::new()), |a, b| if b.0 < a.0 { b } else { a });
    // Labs rent what their budgets buy at the cheapest price.
    let lab_compute = budget.ln - ln(cheapest * 0.73) + ln(c.labs.len() as f64);
    let load_driven =
        demand.ln.max(lab_compute) - ln(c.providers.values().map(|p| p.target_utilisation).fold(1.0, f64::min));
    let (order_ln, order_p) = max_by(c.providers.iter(), |p| {
        ln(1.0 + p.invest_rate + 2.0 * p.invest_response)
    });
    let (rate_ln, rate_p) = max_by(c.providers.iter(), |p| ln(1.0 + p.invest_rate));
    let lag = c.providers.values().map(|p| p.build_lag_months).max().unwrap_or(0);
    let start_capacity = c
        .providers
        .values()
        .map(|p| p.capacity_kgpu)
        .chain(c.labs.values().map(|l| l.own_capacity_kgpu))
        .fold(0.0, f64::max)
        + ramp;
    let mut capacity_keys = vec![
        ticks(),
        format!("providers.{rate_p}.invest_rate"),
        format!("providers.{order_p}.invest_response"),
    ];
    if load_driven > ln(start_capacity.max(1.0)) {
        // Capacity follows demand there: name what drives that demand.
        if demand.ln >= lab_compute {
            capacity_keys.extend(demand.keys.iter().skip(1).cloned());
        } else {
            capacity_keys.extend(budget.keys.iter().skip(1).cloned());
            capacity_keys.push(cheapest_key);
        }
    }
    let capacity = Term::new(
        ln(start_capacity.max(1.0)).max(load_driven)
            + order_ln
            + ln(1.0 + f64::from(lag))
            + t * rate_ln
            + shock_capacity,
        capacity_keys,
    );
    let (response_ln, response_p) = max_by(c.providers.iter(), |p| ln(1.0 + 2.0 * p.price_response));
    let start_price = c
        .providers
        .values()
        .map(|p| p.price.max(p.unit_cost * (1.0 + amp)) * (1.0 + p.marketplace_margin))
        .chain(c.labs.values().map(|l| l.own_unit_cost))
        .fold(0.0, f64::max)
        + c.labs.values().map(|l| l.model_fee).fold(0.0, f64::max);
    let price = Term::new(
        ln(start_price) + t * response_ln,
        vec![ticks(), format!("providers.{response_p}.price_response")],
    );
    let volume = if capacity.ln >= demand.ln { capacity } else { demand };
    let cloud = Term::new(
        ln(c.demand.cloud_spend_musd.max(1.0))
            + years * ln(1.0 + c.demand.cloud_growth_per_year)
            + ln(c.providers.values().map(|p| p.cloud_price_index).fold(1.0, f64::max)),
        vec![
            ticks(),
            "demand.cloud_growth_per_year".into(),
            "demand.cloud_spend_musd".into(),
        ],
    );
    let bill = Term::new(price.ln + volume.ln, {
        let mut k = if price.ln >= volume.ln {
            price.keys.clone()
        } else {
            volume.keys.clone()
        };
        let other = if price.ln >= volume.ln {
            &volume.keys
        } else {
            &price.keys
        };
        k.extend(other.iter().skip(1).cloned());
        k
    });
    for (what, term) in [
        ("provider bills (price × compute)", bill),
        ("cloud spend", cloud),
        ("lab budgets", budget),
    ] {
        if term.ln > LN_LIMIT {
            return Err(ck.fail(
                "run.ticks",
                format!(
                    "is too long for these growth rates: in the worst case {what} reach e^{:.0} ≈ 10^{:.0}, too close to the largest double (10^308); lower one of: {}",
                    term.ln,
                    term.ln / std::f64::consts::LN_10,
                    term.keys.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Heap bytes of one enterprise in a running world (measured 93–99 B by `cargo bench --bench
/// memory` on 2026-12-02, target ≤ 100).
pub const BYTES_PER_ENTERPRISE: u64 = 100;

/// Fixed heap bytes of a running world besides its enterprises (agents, slots, buffers).
pub const BYTES_PER_WORLD: u64 = 8 << 20;

/// Estimated peak heap bytes of one running simulation of `c`.
pub fn world_bytes(c: &Config) -> u64 {
    u64::from(c.run.enterprises) * BYTES_PER_ENTERPRISE + BYTES_PER_WORLD
}

/// Estimated bytes of one run's per-month metrics kept in memory (sweep summaries, compare):
/// every metric and every provider's rent, each month.
pub fn recorded_bytes(c: &Config) -> u64 {
    // Metrics, then per provider its rent and cloud share, per lab its model share and
    // dependency, and per owner a profit (at most one per agent), with the vectors' headers.
    let agents = c.providers.len() + c.labs.len();
    let per_month =
        std::mem::size_of::<super::MetricValues>() + 4 * 24 + 16 * c.providers.len() + 16 * c.labs.len() + 64 * agents;
    u64::from(c.run.ticks) * per_month as u64
}

/// The config keys that feed a run-level metric, for the message of a run that reached a
/// non-finite value: the parameters most likely at fault.
pub fn suspects(metric: &str) -> &'static str {
    match metric {
        m if m.starts_with("hhi_") || m.starts_with("cr1_") || m.starts_with("cr3_") => {
            "the market's amounts: demand.*, providers.*.price, providers.*.capacity_kgpu, labs.*.training_budget_musd"
        }
        "switching_rate" | "provider_switching_rate" | "migration_rate" => "run.enterprises, enterprise.*",
        "ai_spend_musd" | "direct_api_share" | "infrastructure_rent" | "mean_marketplace_margin" => {
            "demand.ai_inference_kgpu, demand.ai_growth_per_year, providers.*.price, providers.*.price_response, providers.*.marketplace_margin, pricing.margin_rule, labs.*.model_fee, run.ticks"
        }
        "cloud_spend_musd" => "demand.cloud_spend_musd, demand.cloud_growth_per_year, run.ticks",
        "cloud_profit_musd" | "cloud_welfare_musd" | "mean_cloud_price_index" | "mean_cloud_lerner" => {
            "providers.*.cloud_price_index, enterprise.cloud_price_weight, pricing.cloud_price_rule, demand.cloud_spend_musd"
        }
        "mean_compute_price" => "providers.*.price, providers.*.unit_cost, providers.*.price_response, run.ticks",
        "mean_utilisation" => {
            "providers.*.capacity_kgpu, providers.*.invest_rate, providers.*.invest_response, demand.ai_inference_kgpu"
        }
        "frontier_quality" => "labs.*.compute_stock, labs.*.training_budget_musd, labs.*.budget_growth_per_year",
        _ => "labs.*.initial_hosts, contracts.*.min_compute_share, lab_behaviour.*",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline() -> Config {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
        super::super::load(&p, &[]).unwrap()
    }

    #[test]
    fn every_numeric_key_of_the_baseline_and_of_every_event_kind_has_a_bound() {
        let mut table = to_table(&baseline());
        // One event of every kind with every numeric field, so that a new field needs a line.
        let events: toml::Table = r#"
            [[events]]
            tick = 1
            delay_months = 0
            when = { metric = "hhi_cloud", above = 1.0 }
            kind = "contract"
            id = "x"
            lab = "openai"
            provider = "aws"
            add_credits_musd = 1.0
            revenue_share = 0.1
            revenue_share_cap_musd = 1.0
            min_compute_share = 0.1
            commitment_musd = 1.0
            [[events]]
            kind = "open_weights"
            lab = "openai"
            gap = 1.0
            [[events]]
            kind = "provider_entry"
            provider = "aws"
            ramp_kgpu_per_month = 1.0
            ramp_months = 2
            [[events]]
            kind = "capacity_shock"
            provider = "aws"
            factor = 0.5
            [[events]]
            kind = "cap_switching_charges"
            cap = 0.0
            [[events]]
            kind = "demand_shock"
            factor = 1.5
            [[events]]
            kind = "gpu_price_cycle"
            amplitude = 0.2
            period_months = 12
            [[events]]
            kind = "stake"
            owner = "microsoft"
            target = "openai"
            share = 0.2
            control = 0.1
            [[events]]
            at = "2026-02"
            kind = "acquisition"
            provider = "aws"
            lab = "anthropic"
            review = { market = "ai_channel", rule = "guppi", guppi_threshold = 0.05 }
            [[events]]
            kind = "investigation"
            market = "cloud"
            threshold = 1800.0
            remedy_delay_months = 3
            remedy = [{ kind = "demand_shock", factor = 2.0 }]
        "#
        .parse()
        .unwrap();
        table.insert("events".into(), events["events"].clone());
        let missing: Vec<String> = numeric_leaves(&table)
            .into_iter()
            .filter(|l| bound_for(l).is_none())
            .map(|l| l.key)
            .collect();
        assert!(
            missing.is_empty(),
            "add a line to config::bounds::BOUNDS for: {missing:?}"
        );
    }

    #[test]
    fn every_bound_is_documented_in_the_model_description() {
        let doc =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/MODEL.md")).unwrap();
        let section = &doc[doc.find("### 7.12 Parameter bounds").expect("MODEL.md §7.12")..];
        let missing: Vec<&str> = BOUNDS
            .iter()
            .map(|b| b.key)
            .filter(|k| !section.contains(&format!("| `{k}` |")))
            .collect();
        assert!(missing.is_empty(), "add to docs/MODEL.md §7.12: {missing:?}");
    }

    #[test]
    fn the_baseline_is_within_bounds_even_over_the_longest_run() {
        let mut c = baseline();
        c.run.ticks = 2_400;
        check(&c, &Checker { file: "b" }).unwrap();
    }

    #[test]
    fn huge_values_are_refused_naming_the_key_and_the_reason() {
        let mut c = baseline();
        c.providers[0].build_lag_months = 4_000_000_000;
        let e = check(&c, &Checker { file: "b" }).unwrap_err();
        assert_eq!(e.key, "providers.aws.build_lag_months");
        assert!(e.problem.contains("≤ 120") && e.problem.contains("4000000000"), "{e}");

        let mut c = baseline();
        c.demand.ai_growth_per_year = 10.0;
        c.run.ticks = 2_400;
        let e = check(&c, &Checker { file: "b" }).unwrap_err();
        assert_eq!(e.key, "run.ticks");
        assert!(e.problem.contains("demand.ai_growth_per_year"), "{e}");
    }
}
