//! Semantic checks of a config: ranges, cross-references, sums, dates and events.
//!
//! Every message names the key, the value found and what was expected, so that a user can fix
//! the file without reading code: `configs/x.toml: enterprise.review_probability must be in
//! [0, 1], got 1.4`.

use super::schema::StakeConfig;
use super::{Config, ConfigError, Month};

/// Builds the messages of a failed check: the file, the key, the value and what was expected.
pub(super) struct Checker<'a> {
    /// The file the config came from.
    pub(super) file: &'a str,
}

impl Checker<'_> {
    pub(super) fn fail(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(self.file, key, problem)
    }

    pub(super) fn range(&self, key: &str, v: f64, lo: f64, hi: f64) -> Result<(), ConfigError> {
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

    pub(super) fn probability(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        self.range(key, v, 0.0, 1.0)
    }

    pub(super) fn non_negative(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        self.range(key, v, 0.0, f64::INFINITY)
    }

    pub(super) fn positive(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(self.fail(key, format!("must be > 0, got {v}")))
        }
    }

    pub(super) fn finite(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(self.fail(key, format!("must be a finite number, got {v}")))
        }
    }

    pub(super) fn growth(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if v.is_finite() && v > -1.0 {
            Ok(())
        } else {
            Err(self.fail(key, format!("must be a finite growth rate > -1, got {v}")))
        }
    }

    pub(super) fn month(&self, key: &str, text: &str) -> Result<Month, ConfigError> {
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
    ck.range("enterprise.initial_primary_share", e.initial_primary_share, 1e-6, 1.0)?;
    if e.lock_in_cap_months > 240 {
        // Tenure is kept in a byte; lock-in beyond 20 years of tenure is not a decision anyone takes.
        return Err(ck.fail(
            "enterprise.lock_in_cap_months",
            format!("must be at most 240 (20 years), got {}", e.lock_in_cap_months),
        ));
    }
    ck.positive("enterprise.size_pareto_alpha", e.size_pareto_alpha)?;
    ck.range("enterprise.size_max_ratio", e.size_max_ratio, 1.0, 1e9)?;
    for (k, v) in [
        ("enterprise.quality_weight", e.quality_weight),
        ("enterprise.price_weight", e.price_weight),
        ("enterprise.ai_cloud_affinity", e.ai_cloud_affinity),
        ("enterprise.cloud_gravity", e.cloud_gravity),
        ("enterprise.ai_vendor_gravity", e.ai_vendor_gravity),
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
    ck.range(
        "demand.initial_cloud_outside_share",
        d.initial_cloud_outside_share,
        0.0,
        0.999,
    )?;
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
    ck.range("lab_behaviour.credit_draw_months", l.credit_draw_months, 1.0, 1_200.0)?;
    ck.range("lab_behaviour.cash_runway_months", l.cash_runway_months, 1.0, 1_200.0)?;

    let pr = &c.pricing;
    ck.range("pricing.damping", pr.damping, 1e-6, 1.0)?;
    ck.non_negative("pricing.discount_rate_per_year", pr.discount_rate_per_year)?;
    ck.growth("pricing.cost_trend_per_year", pr.cost_trend_per_year)?;
    ck.non_negative("pricing.capex_per_gpu_usd", pr.capex_per_gpu_usd)?;
    ck.positive("pricing.depreciation_years", pr.depreciation_years)?;
    if !(pr.max_price_ratio.is_finite() && pr.max_price_ratio > 1.0) {
        return Err(ck.fail(
            "pricing.max_price_ratio",
            format!("must be a finite multiple of unit cost > 1, got {}", pr.max_price_ratio),
        ));
    }

    validate_providers(c, &ck, start)?;
    validate_labs(c, &ck, start)?;
    validate_contracts(c, &ck)?;
    validate_ownership(c, &ck)?;
    for (i, ev) in c.events.iter().enumerate() {
        ev.validate(c, &ck, start, &format!("events[{i}]"))?;
    }
    super::bounds::check(c, &ck)
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
        ck.non_negative(&k("initial_cash_musd"), lab.initial_cash_musd)?;
        for (month, round) in &lab.funding {
            let key = format!("labs.{id}.funding.{month}");
            let m = ck.month(&key, month)?;
            if m.ticks_since(start) < 0 {
                return Err(ck.fail(
                    &key,
                    format!("is before run.start ({start}); money raised before the run is initial_cash_musd"),
                ));
            }
            ck.non_negative(&format!("{key}.amount_musd"), round.amount_musd)?;
        }
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
        ck.probability(&k("profit_share"), ct.profit_share)?;
        ck.non_negative(&k("profit_share_cap_musd"), ct.profit_share_cap_musd)?;
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

// ---- Ownership: provider owners and `[[stakes]]` ----

fn validate_ownership(c: &Config, ck: &Checker) -> Result<(), ConfigError> {
    for (id, p) in &c.providers {
        if let Some(o) = &p.owner
            && o.trim().is_empty()
        {
            return Err(ck.fail(
                &format!("providers.{id}.owner"),
                "is empty; expected an owner name such as \"alphabet\" (or no key: the provider itself)",
            ));
        }
    }
    let owners = c.owner_names();
    for (i, st) in c.stakes.iter().enumerate() {
        let k = |f: &str| format!("stakes[{i}].{f}");
        if !owners.contains(&st.owner.as_str()) {
            return Err(ck.fail(
                &k("owner"),
                format!(
                    "names no owner of a provider or lab: got \"{}\", expected one of {}",
                    st.owner,
                    owners.join(", ")
                ),
            ));
        }
        let Some(target_owner) = c.initial_owner_of(&st.target) else {
            return Err(ck.fail(
                &k("target"),
                format!(
                    "names no provider or lab: got \"{}\", expected one of {}",
                    st.target,
                    ids(c.providers.keys().chain(c.labs.keys()))
                ),
            ));
        };
        if target_owner == st.owner {
            return Err(ck.fail(
                &k("target"),
                format!(
                    "is already owned by \"{}\": got a stake of its owner in \"{}\", expected another holder",
                    st.owner, st.target
                ),
            ));
        }
        if !(st.share > 0.0 && st.share < 1.0) {
            return Err(ck.fail(&k("share"), format!("must be in (0, 1), got {}", st.share)));
        }
        let control = st.control_weight();
        if !(0.0..=0.5).contains(&control) {
            return Err(ck.fail(
                &k("control"),
                format!(
                    "must be in [0, 0.5] (a controlling stake is ownership: use an acquisition or providers.<id>.owner), got {control}{}",
                    if st.control.is_none() { " (the share: proportional control)" } else { "" }
                ),
            ));
        }
    }
    for target in c.providers.keys().chain(c.labs.keys()) {
        let of = || c.stakes.iter().filter(|st| &st.target == target);
        let share: f64 = of().map(|st| st.share).sum();
        let control: f64 = of().map(StakeConfig::control_weight).sum();
        if share >= 1.0 || control > 1.0 + 1e-9 {
            return Err(ck.fail(
                &format!("stakes.*.share (target {target})"),
                format!("stakes in one target must leave it a residual owner: shares sum to {share}, control to {control}; expected a share sum below 1 and control at most 1"),
            ));
        }
    }
    Ok(())
}

/// Agent ids as a comma-separated list, for error messages.
pub(super) fn ids<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    keys.map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}
