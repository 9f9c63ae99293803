//! Provider compute prices and the prices enterprises pay for AI options.

/// GPU-hours in one kGPU-month, in millions: 1,000 GPUs × 730 h = 0.73 M GPU-hours.
/// Multiplying kGPU by a US$/GPU-hour price by this gives US$ M per month.
pub const MUSD_PER_KGPU_MONTH_PER_DOLLAR_HOUR: f64 = 0.73;

/// Next month's compute price: proportional response to the utilisation gap, never below cost.
///
/// `p' = max(cost, p · (1 + response · (min(load, 2) − target)))`, where `load` is last month's
/// demand over capacity (it may exceed 1 when capacity is rationed; it is capped at 2 so one
/// month of extreme scarcity cannot double the price).
pub fn next_price(price: f64, unit_cost: f64, load: f64, target: f64, response: f64) -> f64 {
    let gap = load.min(2.0) - target;
    (price * (1.0 + response * gap)).max(unit_cost)
}

/// Unit cost under a GPU price cycle: `cost · (1 + amplitude · sin(2π · months / period))`.
pub fn cycled_unit_cost(unit_cost: f64, amplitude: f64, months: u32, period: u32) -> f64 {
    let phase = std::f64::consts::TAU * f64::from(months) / f64::from(period.max(1));
    unit_cost * (1.0 + amplitude * phase.sin())
}

/// The technology trend of the cost per unit of effective compute after `tick` months:
/// `(1 + trend)^(tick / 12)` (trend −0.245 a year: FLOP/s per US$ doubles every ≈ 2.5 years).
pub fn trend_factor(trend_per_year: f64, tick: u32) -> f64 {
    (1.0 + trend_per_year).powf(f64::from(tick) / 12.0)
}

/// This month's unit cost: the configured cost at tick 0 moved by the technology trend, and
/// under a GPU price cycle started at tick `start` with `(amplitude, period)`, cycled around
/// that trend (down as well as up).
pub fn unit_cost_at(unit_cost: f64, trend_per_year: f64, cycle: Option<(u32, f64, u32)>, tick: u32) -> f64 {
    let trended = unit_cost * trend_factor(trend_per_year, tick);
    match cycle {
        Some((start, amplitude, period)) => cycled_unit_cost(trended, amplitude, tick.saturating_sub(start), period),
        None => trended,
    }
}

/// Capital recovery per GPU-hour sold: capex spread over the life at utilisation `u`
/// (US$/GPU-hour). The configured unit cost is a long-run cost that includes it; the variable
/// cost of serving is the rest.
pub fn capital_recovery_per_hour(capex_per_gpu_usd: f64, life_years: f64, utilisation: f64) -> f64 {
    capex_per_gpu_usd / (life_years * 8_760.0 * utilisation.max(1e-3))
}

/// What a provider's month costs it and earns: `revenue − variable · served − depreciation`, with
/// the variable cost per GPU-hour the unit cost less its capital recovery at the target
/// utilisation (the configured unit cost is a long-run cost) and depreciation on all capacity,
/// US$ M.
pub fn provider_profit(
    revenue_musd: f64,
    served_kgpu: f64,
    capacity_kgpu: f64,
    unit_cost: f64,
    capex_per_gpu_usd: f64,
    life_years: f64,
    target_utilisation: f64,
) -> f64 {
    let variable = (unit_cost - capital_recovery_per_hour(capex_per_gpu_usd, life_years, target_utilisation)).max(0.0);
    revenue_musd - spend_musd(served_kgpu, variable) - depreciation_musd(capacity_kgpu, capex_per_gpu_usd, life_years)
}

/// Lerner index `(price − marginal cost) / price`; 0 for a price that is not positive.
pub fn lerner(price: f64, marginal_cost: f64) -> f64 {
    if price > 0.0 {
        (price - marginal_cost) / price
    } else {
        0.0
    }
}

/// A lab's month: enterprise revenue after revenue shares − its compute bills − the cost of its
/// own data centres used, US$ M.
pub fn lab_profit(net_revenue_musd: f64, host_bills_musd: f64, own_used_kgpu: f64, own_unit_cost: f64) -> f64 {
    net_revenue_musd - host_bills_musd - spend_musd(own_used_kgpu, own_unit_cost)
}

/// Straight-line depreciation of `capacity_kgpu` of GPUs in US$ M per month, valued at this
/// month's capex per GPU (replacement cost: the capex path follows the same trend as unit cost).
pub fn depreciation_musd(capacity_kgpu: f64, capex_per_gpu_usd: f64, life_years: f64) -> f64 {
    // kGPU × 1,000 GPUs × US$ per GPU / (12 · life) months, in US$ M.
    capacity_kgpu * 1_000.0 * capex_per_gpu_usd / (12.0 * life_years) / 1e6
}

/// Price per GPU-hour of inference an enterprise pays on a provider marketplace.
pub fn marketplace_price(compute_price: f64, margin: f64, model_fee: f64) -> f64 {
    compute_price * (1.0 + margin) + model_fee
}

/// Price per GPU-hour of inference on a lab's direct API: its average hosting cost plus its fee.
pub fn direct_price(avg_hosting_price: f64, model_fee: f64) -> f64 {
    avg_hosting_price + model_fee
}

/// Spend in US$ M per month of `kgpu` of compute at `price` US$/GPU-hour.
pub fn spend_musd(kgpu: f64, price: f64) -> f64 {
    kgpu * price * MUSD_PER_KGPU_MONTH_PER_DOLLAR_HOUR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_rises_above_target_and_falls_below() {
        assert!(next_price(4.0, 2.0, 0.95, 0.85, 0.1) > 4.0);
        assert!(next_price(4.0, 2.0, 0.60, 0.85, 0.1) < 4.0);
        assert_eq!(next_price(4.0, 2.0, 0.85, 0.85, 0.1), 4.0);
    }

    #[test]
    fn price_never_falls_below_unit_cost() {
        let mut p = 3.0;
        for _ in 0..200 {
            p = next_price(p, 2.0, 0.0, 0.85, 0.2);
            assert!(p >= 2.0);
        }
        assert_eq!(p, 2.0);
    }

    #[test]
    fn scarcity_response_is_capped() {
        assert_eq!(
            next_price(1.0, 0.5, 50.0, 1.0, 1.0),
            next_price(1.0, 0.5, 2.0, 1.0, 1.0)
        );
    }

    #[test]
    fn price_cycle_oscillates_around_cost() {
        assert!((cycled_unit_cost(2.0, 0.3, 0, 24) - 2.0).abs() < 1e-12);
        assert!((cycled_unit_cost(2.0, 0.3, 6, 24) - 2.6).abs() < 1e-12);
        assert!((cycled_unit_cost(2.0, 0.3, 18, 24) - 1.4).abs() < 1e-12);
    }

    #[test]
    fn costs_follow_the_trend_and_the_cycle_moves_them_both_ways() {
        // −24.5 %/yr: after two years the cost is 0.755² of the start.
        assert!((unit_cost_at(2.0, -0.245, None, 24) - 2.0 * 0.755f64.powi(2)).abs() < 1e-12);
        assert_eq!(unit_cost_at(2.0, -0.245, None, 0), 2.0);
        let trend = unit_cost_at(2.0, -0.245, None, 30);
        let up = unit_cost_at(2.0, -0.245, Some((24, 0.3, 24)), 30);
        let down = unit_cost_at(2.0, -0.245, Some((12, 0.3, 24)), 30);
        assert!((up - trend * 1.3).abs() < 1e-12 && (down - trend * 0.7).abs() < 1e-12);
    }

    #[test]
    fn capital_recovery_spreads_capex_over_the_hours_used() {
        // US$ 30,000 over 5 years at 85 %: 30,000 / (5 · 8,760 · 0.85) ≈ US$ 0.806 per hour.
        let r = capital_recovery_per_hour(30_000.0, 5.0, 0.85);
        assert!((r - 30_000.0 / 37_230.0).abs() < 1e-9);
        // At full use, a month of recovery per kGPU equals a month of depreciation per kGPU.
        let per_month = spend_musd(1.0, capital_recovery_per_hour(30_000.0, 5.0, 1.0));
        assert!((per_month - depreciation_musd(1.0, 30_000.0, 5.0)).abs() < 1e-3);
    }

    #[test]
    fn profits_subtract_variable_cost_depreciation_bills_and_own_costs() {
        // 100 kGPU capacity, 80 served at a $2 long-run cost with $30k GPUs over 5 years at 85 %:
        // variable cost 2 − 0.806 per hour, depreciation 100 × 0.5 = US$ 50 M.
        let recovery = 30_000.0 / (5.0 * 8_760.0 * 0.85);
        let expected = 500.0 - spend_musd(80.0, 2.0 - recovery) - 50.0;
        assert!((provider_profit(500.0, 80.0, 100.0, 2.0, 30_000.0, 5.0, 0.85) - expected).abs() < 1e-9);
        // A unit cost below the capital recovery has no negative variable cost.
        let p = provider_profit(0.0, 80.0, 100.0, 0.5, 30_000.0, 5.0, 0.85);
        assert!((p + 50.0).abs() < 1e-9);
        assert!((lab_profit(100.0, 60.0, 10.0, 2.0) - (100.0 - 60.0 - 14.6)).abs() < 1e-9);
        assert!((lerner(4.0, 1.0) - 0.75).abs() < 1e-15);
        assert_eq!(lerner(0.0, 1.0), 0.0);
    }

    #[test]
    fn depreciation_of_a_thousand_gpus_over_five_years() {
        // 1 kGPU × US$ 30,000 / 60 months = US$ 0.5 M a month.
        assert!((depreciation_musd(1.0, 30_000.0, 5.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn channel_prices_and_spend() {
        assert!((marketplace_price(4.0, 0.25, 3.0) - 8.0).abs() < 1e-12);
        assert!((direct_price(3.5, 3.0) - 6.5).abs() < 1e-12);
        assert!((spend_musd(100.0, 2.0) - 146.0).abs() < 1e-9);
    }
}
