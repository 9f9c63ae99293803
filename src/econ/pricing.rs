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

/// This month's unit cost: the configured cost, or under a GPU price cycle started at tick
/// `start` with `(amplitude, period)`, the cycled cost.
pub fn unit_cost_at(unit_cost: f64, cycle: Option<(u32, f64, u32)>, tick: u32) -> f64 {
    match cycle {
        Some((start, amplitude, period)) => cycled_unit_cost(unit_cost, amplitude, tick.saturating_sub(start), period),
        None => unit_cost,
    }
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
    fn channel_prices_and_spend() {
        assert!((marketplace_price(4.0, 0.25, 3.0) - 8.0).abs() < 1e-12);
        assert!((direct_price(3.5, 3.0) - 6.5).abs() < 1e-12);
        assert!((spend_musd(100.0, 2.0) - 146.0).abs() < 1e-9);
    }
}
