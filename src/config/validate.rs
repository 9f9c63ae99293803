//! Semantic checks of a config: ranges, cross-references, sums, dates and events.
//!
//! Every message names the key, the value found and what was expected, so that a user can fix
//! the file without reading code: `configs/x.toml: enterprise.review_probability must be in
//! [0, 1], got 1.4`.

use super::{Config, ConfigError, Month};
use super::{Market, Watched};
use crate::events::{Action, EventSpec};

/// Keys that describe the state at tick 0; an event cannot `set` them.
const INITIAL_CONDITION_FIELDS: [&str; 14] = [
    "home_share",
    "training_budget_musd",
    "build_lag_months",
    "owner",
    "marketplace_listing",
    "capacity_kgpu",
    "price",
    "entry",
    "compute_stock",
    "own_capacity_kgpu",
    "initial_hosts",
    "credits_musd",
    "suite_share",
    "start",
];

/// Help text listing which keys an event may `set`.
pub const SETTABLE_AT_RUNTIME_HELP: &str = "a behavioural parameter (enterprise.*, demand.*growth*, \
lab_behaviour.*, providers.<id>.<rule>, labs.<id>.<rule>); initial conditions (run.*, shares, \
capacities, stocks, budgets, prices at tick 0, entry dates, owners, listings) cannot change mid-run, \
and contract terms change with `kind = \"contract\"`";

/// Whether a dotted key names an initial condition rather than a behavioural rule.
pub fn is_initial_condition(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    key.starts_with("run.")
        || key == "demand.ai_inference_kgpu"
        || key == "demand.cloud_spend_musd"
        || key == "demand.initial_cloud_outside_share"
        || key == "demand.cloud_outside_share"
        || key == "demand.ai_outside_share"
        || key.starts_with("enterprise.initial_")
        || INITIAL_CONDITION_FIELDS.contains(&last)
        || key.contains(".initial_hosts.")
        || key.starts_with("contracts.")
}

struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    fn fail(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(self.file, key, problem)
    }

    fn range(&self, key: &str, v: f64, lo: f64, hi: f64) -> Result<(), ConfigError> {
        if v.is_finite() && v >= lo && v <= hi {
            Ok(())
        } else {
            let hi_txt = if hi == f64::INFINITY {
                "∞)".to_string()
            } else {
                format!("{hi}]")
            };
            Err(self.fail(key, format!("must be in [{lo}, {hi_txt}, got {v}")))
        }
    }

    fn probability(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        self.range(key, v, 0.0, 1.0)
    }

    fn non_negative(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        self.range(key, v, 0.0, f64::INFINITY)
    }

    fn positive(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(self.fail(key, format!("must be > 0, got {v}")))
        }
    }

    fn finite(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(self.fail(key, format!("must be a finite number, got {v}")))
        }
    }

    fn growth(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if v.is_finite() && v > -1.0 {
            Ok(())
        } else {
            Err(self.fail(key, format!("must be a finite growth rate > -1, got {v}")))
        }
    }

    fn month(&self, key: &str, text: &str) -> Result<Month, ConfigError> {
        Month::parse(text).map_err(|e| self.fail(key, format!("is not a month: {e}")))
    }
}

/// Checks everything a typed config can still get wrong; `file` names it in errors.
pub fn validate(c: &Config, file: &str) -> Result<(), ConfigError> {
    let ck = Checker { file };
    let start = ck.month("run.start", &c.run.start)?;
    if c.run.seed > i64::MAX as u64 {
        return Err(ck.fail(
            "run.seed",
            format!("must be below 2^63 (a TOML integer), got {}", c.run.seed),
        ));
    }
    if c.run.ticks == 0 {
        return Err(ck.fail("run.ticks", "must be ≥ 1, got 0"));
    }
    if c.run.enterprises == 0 {
        return Err(ck.fail("run.enterprises", "must be ≥ 1, got 0"));
    }

    let e = &c.enterprise;
    ck.probability("enterprise.review_probability", e.review_probability)?;
    ck.probability("enterprise.cloud_review_probability", e.cloud_review_probability)?;
    ck.range("enterprise.project_probability", e.project_probability, 1e-6, 1.0)?;
    ck.range("enterprise.cloud_move_share", e.cloud_move_share, 1e-6, 1.0)?;
    for (k, v, hi) in [
        ("enterprise.initial_cloud_projects", e.initial_cloud_projects, 16),
        ("enterprise.initial_ai_projects", e.initial_ai_projects, 16),
        ("enterprise.initial_project_units", e.initial_project_units, 1000),
    ] {
        if !(1..=hi).contains(&v) {
            return Err(ck.fail(k, format!("must be in [1, {hi}], got {v}")));
        }
    }
    ck.positive("enterprise.size_pareto_alpha", e.size_pareto_alpha)?;
    ck.range("enterprise.size_max_ratio", e.size_max_ratio, 1.0, 1e9)?;
    for (k, v) in [
        ("enterprise.quality_weight", e.quality_weight),
        ("enterprise.price_weight", e.price_weight),
        ("enterprise.ai_cloud_affinity", e.ai_cloud_affinity),
        ("enterprise.cloud_gravity", e.cloud_gravity),
        ("enterprise.suite_affinity", e.suite_affinity),
        ("enterprise.direct_api_bonus", e.direct_api_bonus),
        ("enterprise.cloud_price_weight", e.cloud_price_weight),
        ("enterprise.ai_pull_weight", e.ai_pull_weight),
    ] {
        ck.finite(k, v)?;
    }
    for (k, v) in [
        ("enterprise.switch_cost_base", e.switch_cost_base),
        ("enterprise.egress_weight", e.egress_weight),
        ("enterprise.lock_in_per_month", e.lock_in_per_month),
        ("enterprise.migration_cost", e.migration_cost),
    ] {
        ck.non_negative(k, v)?;
    }

    let d = &c.demand;
    ck.non_negative("demand.ai_inference_kgpu", d.ai_inference_kgpu)?;
    ck.growth("demand.ai_growth_per_year", d.ai_growth_per_year)?;
    ck.non_negative("demand.cloud_spend_musd", d.cloud_spend_musd)?;
    ck.growth("demand.cloud_growth_per_year", d.cloud_growth_per_year)?;
    ck.range("demand.initial_cloud_outside_share", d.initial_cloud_outside_share, 0.0, 0.999)?;
    ck.range("demand.cloud_outside_share", d.cloud_outside_share, 1e-6, 1.0 - 1e-6)?;
    ck.range("demand.ai_outside_share", d.ai_outside_share, 1e-6, 1.0 - 1e-6)?;
    ck.finite("demand.cloud_outside_trend_per_year", d.cloud_outside_trend_per_year)?;
    ck.finite("demand.ai_outside_trend_per_year", d.ai_outside_trend_per_year)?;

    let l = &c.lab_behaviour;
    ck.probability("lab_behaviour.stock_depreciation", l.stock_depreciation)?;
    ck.range("lab_behaviour.allocation_speed", l.allocation_speed, 1e-9, 1.0)?;
    ck.finite("lab_behaviour.host_price_weight", l.host_price_weight)?;
    ck.finite("lab_behaviour.free_capacity_weight", l.free_capacity_weight)?;
    ck.non_negative("lab_behaviour.dependency_aversion", l.dependency_aversion)?;
    ck.probability("lab_behaviour.move_penalty", l.move_penalty)?;
    ck.probability("lab_behaviour.reinvest_share", l.reinvest_share)?;
    ck.probability("lab_behaviour.owner_min_share", l.owner_min_share)?;

    validate_providers(c, &ck, start)?;
    validate_labs(c, &ck, start)?;
    validate_contracts(c, &ck)?;
    for (i, ev) in c.events.iter().enumerate() {
        validate_event(c, &ck, start, &format!("events[{i}]"), ev)?;
    }
    Ok(())
}

fn validate_providers(c: &Config, ck: &Checker, start: Month) -> Result<(), ConfigError> {
    if c.providers.is_empty() {
        return Err(ck.fail("providers", "must list at least one provider"));
    }
    if c.providers.len() > 32 {
        return Err(ck.fail(
            "providers",
            format!("may list at most 32 providers, got {}", c.providers.len()),
        ));
    }
    let mut home_sum = 0.0;
    let mut suite_sum = 0.0;
    let mut any_active = false;
    for (id, p) in &c.providers {
        let k = |f: &str| format!("providers.{id}.{f}");
        ck.probability(&k("home_share"), p.home_share)?;
        ck.non_negative(&k("capacity_kgpu"), p.capacity_kgpu)?;
        ck.positive(&k("unit_cost"), p.unit_cost)?;
        ck.positive(&k("price"), p.price)?;
        if p.price < p.unit_cost {
            return Err(ck.fail(
                &k("price"),
                format!("must be ≥ unit_cost ({}), got {}", p.unit_cost, p.price),
            ));
        }
        ck.non_negative(&k("price_response"), p.price_response)?;
        ck.range(&k("target_utilisation"), p.target_utilisation, 1e-9, 1.0)?;
        ck.non_negative(&k("invest_rate"), p.invest_rate)?;
        ck.non_negative(&k("invest_response"), p.invest_response)?;
        ck.non_negative(&k("egress_fee"), p.egress_fee)?;
        ck.non_negative(&k("bundle_strength"), p.bundle_strength)?;
        ck.probability(&k("suite_share"), p.suite_share)?;
        ck.non_negative(&k("licensing_penalty"), p.licensing_penalty)?;
        ck.non_negative(&k("marketplace_margin"), p.marketplace_margin)?;
        ck.positive(&k("cloud_price_index"), p.cloud_price_index)?;
        ck.finite(&k("brand"), p.brand)?;
        let entry = match &p.entry {
            Some(m) => ck.month(&k("entry"), m)?,
            None => start,
        };
        if entry > start && p.home_share > 0.0 {
            return Err(ck.fail(
                &k("home_share"),
                format!(
                    "must be 0 for a provider entering later ({entry}), got {}",
                    p.home_share
                ),
            ));
        }
        any_active |= entry <= start;
        home_sum += p.home_share;
        suite_sum += p.suite_share;
    }
    if !any_active {
        return Err(ck.fail("providers", "no provider operates at run.start"));
    }
    if (home_sum - 1.0).abs() > 1e-6 {
        return Err(ck.fail("providers.*.home_share", format!("must sum to 1, got {home_sum}")));
    }
    if suite_sum > 1.0 + 1e-9 {
        return Err(ck.fail(
            "providers.*.suite_share",
            format!("must sum to at most 1, got {suite_sum}"),
        ));
    }
    Ok(())
}

fn validate_labs(c: &Config, ck: &Checker, start: Month) -> Result<(), ConfigError> {
    if c.labs.is_empty() {
        return Err(ck.fail("labs", "must list at least one lab"));
    }
    if c.labs.len() > 32 {
        return Err(ck.fail("labs", format!("may list at most 32 labs, got {}", c.labs.len())));
    }
    // Providers and labs share the ai_channel market, shares.csv and `quality.<id>`-style
    // conditions, so an id must name one agent only.
    if let Some(id) = c.labs.keys().find(|id| c.providers.contains_key(*id)) {
        return Err(ck.fail(
            &format!("labs.{id}"),
            format!("reuses the id \"{id}\" of a provider; expected provider and lab ids to be distinct"),
        ));
    }
    let mut any_active = false;
    for (id, lab) in &c.labs {
        let k = |f: &str| format!("labs.{id}.{f}");
        ck.positive(&k("compute_stock"), lab.compute_stock)?;
        ck.non_negative(&k("training_budget_musd"), lab.training_budget_musd)?;
        ck.growth(&k("budget_growth_per_year"), lab.budget_growth_per_year)?;
        ck.non_negative(&k("model_fee"), lab.model_fee)?;
        ck.non_negative(&k("open_weight_gap"), lab.open_weight_gap)?;
        ck.finite(&k("brand"), lab.brand)?;
        ck.non_negative(&k("own_capacity_kgpu"), lab.own_capacity_kgpu)?;
        ck.positive(&k("own_unit_cost"), lab.own_unit_cost)?;
        if let Some(owner) = &lab.owner
            && !c.providers.contains_key(owner)
        {
            return Err(ck.fail(
                &k("owner"),
                format!(
                    "names unknown provider \"{owner}\"; expected one of {}",
                    ids(c.providers.keys())
                ),
            ));
        }
        if !lab.direct_api && !lab.marketplace_listing && !lab.open_weight && lab.owner.is_none() {
            let licensed = c.contracts.values().any(|ct| &ct.lab == id && ct.licence);
            if !licensed {
                return Err(ck.fail(
                    &format!("labs.{id}"),
                    "reaches no enterprise: give it a direct API, a marketplace listing, open weights, an owner or a licence",
                ));
            }
        }
        if !lab.initial_hosts.is_empty() {
            let mut sum = 0.0;
            for (host, share) in &lab.initial_hosts {
                let hk = k(&format!("initial_hosts.{host}"));
                if !c.providers.contains_key(host) {
                    return Err(ck.fail(
                        &hk,
                        format!(
                            "names unknown provider \"{host}\"; expected one of {}",
                            ids(c.providers.keys())
                        ),
                    ));
                }
                ck.probability(&hk, *share)?;
                sum += share;
            }
            if (sum - 1.0).abs() > 1e-6 {
                return Err(ck.fail(&k("initial_hosts"), format!("must sum to 1, got {sum}")));
            }
        }
        let entry = match &lab.entry {
            Some(m) => ck.month(&k("entry"), m)?,
            None => start,
        };
        any_active |= entry <= start;
    }
    if !any_active {
        return Err(ck.fail("labs", "no lab operates at run.start"));
    }
    Ok(())
}

fn validate_contracts(c: &Config, ck: &Checker) -> Result<(), ConfigError> {
    for (id, ct) in &c.contracts {
        let k = |f: &str| format!("contracts.{id}.{f}");
        if !c.labs.contains_key(&ct.lab) {
            return Err(ck.fail(
                &k("lab"),
                format!(
                    "names unknown lab \"{}\"; expected one of {}",
                    ct.lab,
                    ids(c.labs.keys())
                ),
            ));
        }
        if !c.providers.contains_key(&ct.provider) {
            return Err(ck.fail(
                &k("provider"),
                format!(
                    "names unknown provider \"{}\"; expected one of {}",
                    ct.provider,
                    ids(c.providers.keys())
                ),
            ));
        }
        for (f, m) in [
            ("start", &ct.start),
            ("end", &ct.end),
            ("exclusivity_end", &ct.exclusivity_end),
        ] {
            if let Some(m) = m {
                ck.month(&k(f), m)?;
            }
        }
        ck.non_negative(&k("credits_musd"), ct.credits_musd)?;
        ck.probability(&k("revenue_share"), ct.revenue_share)?;
        ck.non_negative(&k("revenue_share_cap_musd"), ct.revenue_share_cap_musd)?;
        ck.probability(&k("min_compute_share"), ct.min_compute_share)?;
        ck.non_negative(&k("commitment_musd"), ct.commitment_musd)?;
        if ct.licence_exclusive && !ct.licence {
            return Err(ck.fail(
                &k("licence_exclusive"),
                "is true but licence is false; an exclusive licence needs licence = true",
            ));
        }
    }
    for lab in c.labs.keys() {
        let floors: f64 = c
            .contracts
            .values()
            .filter(|ct| &ct.lab == lab)
            .map(|ct| ct.min_compute_share)
            .sum();
        if floors > 1.0 + 1e-9 {
            return Err(ck.fail(
                &format!("contracts.*.min_compute_share (lab {lab})"),
                format!("must sum to at most 1 per lab, got {floors}"),
            ));
        }
    }
    Ok(())
}

fn validate_event(c: &Config, ck: &Checker, start: Month, key: &str, ev: &EventSpec) -> Result<(), ConfigError> {
    let triggers = usize::from(ev.at.is_some()) + usize::from(ev.tick.is_some());
    if triggers > 1 {
        return Err(ck.fail(key, "gives both `at` and `tick`; give one"));
    }
    if triggers == 0 && ev.when.is_none() && !matches!(ev.action, Action::Investigation { .. }) {
        return Err(ck.fail(
            key,
            "has no trigger: give `at = \"YYYY-MM\"`, `tick = N` or `when = {{ metric = .., above = .. }}`",
        ));
    }
    if let Some(at) = &ev.at {
        let m = ck.month(&format!("{key}.at"), at)?;
        let t = m.ticks_since(start);
        if t < 0 || t >= i64::from(c.run.ticks) {
            return Err(ck.fail(
                &format!("{key}.at"),
                format!(
                    "is outside the run: got {at}, expected {start} to {}",
                    start.plus(i64::from(c.run.ticks) - 1)
                ),
            ));
        }
    }
    if let Some(t) = ev.tick
        && t >= c.run.ticks
    {
        return Err(ck.fail(
            &format!("{key}.tick"),
            format!("is outside the run: got {t}, expected 0 to {}", c.run.ticks - 1),
        ));
    }
    if let Some(w) = &ev.when {
        let known = match Watched::parse(&w.metric) {
            Some(Watched::Metric(_)) => true,
            Some(Watched::Quality(l) | Watched::Dependency(l)) => c.labs.contains_key(&l),
            Some(Watched::Rent(p)) => c.providers.contains_key(&p),
            None => false,
        };
        if !known {
            return Err(ck.fail(
                &format!("{key}.when.metric"),
                format!("is not a known metric: got \"{}\", expected a metrics.csv column or quality.<lab>, dependency.<lab>, rent.<provider>", w.metric),
            ));
        }
        if w.above.is_some() == w.below.is_some() {
            return Err(ck.fail(&format!("{key}.when"), "needs exactly one of `above` or `below`"));
        }
    }
    validate_action(c, ck, key, &ev.action)
}

fn validate_action(c: &Config, ck: &Checker, key: &str, action: &Action) -> Result<(), ConfigError> {
    let lab = |name: &str| -> Result<(), ConfigError> {
        if c.labs.contains_key(name) {
            Ok(())
        } else {
            Err(ck.fail(
                &format!("{key}.lab"),
                format!("names unknown lab \"{name}\"; expected one of {}", ids(c.labs.keys())),
            ))
        }
    };
    let provider = |name: &str| -> Result<(), ConfigError> {
        if c.providers.contains_key(name) {
            Ok(())
        } else {
            Err(ck.fail(
                &format!("{key}.provider"),
                format!(
                    "names unknown provider \"{name}\"; expected one of {}",
                    ids(c.providers.keys())
                ),
            ))
        }
    };
    match action {
        Action::Set { key: k, value } => {
            if is_initial_condition(k) {
                return Err(ck.fail(
                    &format!("{key}.key"),
                    format!(
                        "\"{k}\" is an initial condition and cannot be set mid-run; expected {SETTABLE_AT_RUNTIME_HELP}"
                    ),
                ));
            }
            let mut table = super::to_table(c);
            table.remove("events");
            super::set_key(&mut table, k, value.clone())
                .map_err(|p| ck.fail(&format!("{key}.key"), format!("\"{k}\" {p}")))?;
            let probe: Result<Config, _> = serde_path_to_error::deserialize(toml::Value::Table(table.clone()));
            match probe {
                Err(e) => {
                    return Err(ck.fail(
                        &format!("{key}.value"),
                        format!("does not fit \"{k}\": {}", e.inner().message().trim()),
                    ));
                }
                Ok(probe) => validate(&probe, ck.file).map_err(|e| {
                    ck.fail(
                        &format!("{key}.value"),
                        format!(
                            "is rejected: {}",
                            e.to_string().trim_start_matches(&format!("{}: ", ck.file))
                        ),
                    )
                })?,
            }
        }
        Action::Contract {
            id,
            lab: l,
            provider: p,
            add_credits_musd,
            revenue_share,
            revenue_share_cap_musd,
            min_compute_share,
            commitment_musd,
            end,
            ..
        } => {
            if !c.contracts.contains_key(id) && (l.is_none() || p.is_none()) {
                return Err(ck.fail(
                    &format!("{key}.id"),
                    format!("\"{id}\" is a new contract, so it needs `lab` and `provider`"),
                ));
            }
            if let Some(l) = l {
                lab(l)?;
            }
            if let Some(p) = p {
                provider(p)?;
            }
            if let Some(v) = add_credits_musd {
                ck.non_negative(&format!("{key}.add_credits_musd"), *v)?;
            }
            if let Some(v) = revenue_share {
                ck.probability(&format!("{key}.revenue_share"), *v)?;
            }
            if let Some(v) = revenue_share_cap_musd {
                ck.non_negative(&format!("{key}.revenue_share_cap_musd"), *v)?;
            }
            if let Some(v) = min_compute_share {
                ck.probability(&format!("{key}.min_compute_share"), *v)?;
            }
            if let Some(v) = commitment_musd {
                ck.non_negative(&format!("{key}.commitment_musd"), *v)?;
            }
            if let Some(m) = end {
                ck.month(&format!("{key}.end"), m)?;
            }
        }
        Action::AgiDeclaration { lab: l } | Action::LabEntry { lab: l } => lab(l)?,
        Action::OpenWeights { lab: l, gap } => {
            lab(l)?;
            if let Some(g) = gap {
                ck.non_negative(&format!("{key}.gap"), *g)?;
            }
        }
        Action::ProviderEntry {
            provider: p,
            ramp_kgpu_per_month,
            ..
        } => {
            provider(p)?;
            ck.non_negative(&format!("{key}.ramp_kgpu_per_month"), *ramp_kgpu_per_month)?;
        }
        Action::CapacityShock { provider: p, factor } => {
            provider(p)?;
            ck.non_negative(&format!("{key}.factor"), *factor)?;
        }
        Action::Acquisition {
            provider: p, lab: l, ..
        } => {
            provider(p)?;
            lab(l)?;
        }
        Action::BanBundling | Action::BanExclusivity | Action::RemoveLicensingPenalties => {}
        Action::CapSwitchingCharges { cap } => ck.non_negative(&format!("{key}.cap"), *cap)?,
        Action::Investigation {
            market,
            threshold,
            remedy,
            ..
        } => {
            if Market::from_name(market).is_none() {
                return Err(ck.fail(
                    &format!("{key}.market"),
                    format!(
                        "is not a market: got \"{market}\", expected one of {}",
                        Market::all().map(Market::name).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            ck.range(&format!("{key}.threshold"), *threshold, 0.0, 10_000.0)?;
            if remedy.is_empty() {
                return Err(ck.fail(&format!("{key}.remedy"), "must list at least one action"));
            }
            for (i, a) in remedy.iter().enumerate() {
                validate_action(c, ck, &format!("{key}.remedy[{i}]"), a)?;
            }
        }
        Action::DemandShock { factor } => ck.positive(&format!("{key}.factor"), *factor)?,
        Action::GpuPriceCycle {
            amplitude,
            period_months,
        } => {
            ck.range(&format!("{key}.amplitude"), *amplitude, 0.0, 0.99)?;
            if *period_months < 2 {
                return Err(ck.fail(
                    &format!("{key}.period_months"),
                    format!("must be ≥ 2, got {period_months}"),
                ));
            }
        }
    }
    Ok(())
}

fn ids<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    keys.map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}
