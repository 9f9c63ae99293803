//! Model quality from training compute: diminishing returns and obsolescence.
//!
//! A lab's effective training-compute stock `S` depreciates at rate δ a month (older training
//! runs lose value as the frontier moves) and grows with served training compute scaled by a
//! productivity factor (moving clusters costs productivity). Quality is `ln S`: doubling the
//! stock adds a constant `ln 2`, the diminishing returns of scaling laws.

/// Next month's stock: `(1 − δ) · S + efficiency · training_kgpu`.
pub fn next_stock(stock: f64, depreciation: f64, training_kgpu: f64, efficiency: f64) -> f64 {
    (1.0 - depreciation) * stock + efficiency.max(0.0) * training_kgpu.max(0.0)
}

/// Quality of a stock (log effective compute).
pub fn quality(stock: f64) -> f64 {
    stock.max(1e-9).ln()
}

/// Training productivity after moving `moved_share` of compute between hosts.
pub fn training_efficiency(moved_share: f64, move_penalty: f64) -> f64 {
    (1.0 - move_penalty * moved_share.clamp(0.0, 1.0)).max(0.0)
}

/// The frontier: the best quality among operating labs, 0 when none operates. A non-finite
/// quality is passed through (so the run reports it as a fault instead of writing 0).
pub fn frontier_quality(qualities: &[f64]) -> f64 {
    if qualities.is_empty() {
        return 0.0;
    }
    qualities.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_rises_with_compute_with_diminishing_returns() {
        let q = |t: f64| quality(next_stock(100.0, 0.0, t, 1.0));
        let first = q(100.0) - q(0.0);
        let second = q(200.0) - q(100.0);
        assert!(first > 0.0 && second > 0.0 && second < first);
    }

    #[test]
    fn without_training_quality_decays() {
        let s1 = next_stock(1000.0, 0.03, 0.0, 1.0);
        assert!(quality(s1) < quality(1000.0));
    }

    #[test]
    fn steady_state_stock_is_training_over_depreciation() {
        let mut s = 1.0;
        for _ in 0..2000 {
            s = next_stock(s, 0.05, 10.0, 1.0);
        }
        assert!((s - 200.0).abs() < 1e-6);
    }

    #[test]
    fn the_frontier_is_the_best_operating_lab_and_infinity_is_not_hidden() {
        assert_eq!(frontier_quality(&[]), 0.0);
        assert_eq!(frontier_quality(&[2.0, 9.5, 3.0]), 9.5);
        // Regression (issue 7): +inf used to be written as 0.
        assert_eq!(frontier_quality(&[2.0, f64::INFINITY]), f64::INFINITY);
    }

    #[test]
    fn moving_compute_costs_productivity() {
        assert_eq!(training_efficiency(0.0, 0.3), 1.0);
        assert!((training_efficiency(0.5, 0.3) - 0.85).abs() < 1e-12);
        assert_eq!(training_efficiency(2.0, 2.0), 0.0);
    }
}
