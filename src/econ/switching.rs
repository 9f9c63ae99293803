//! Switching costs of enterprises, turned into the multiplicative logit factors the choice
//! sampler uses.
//!
//! Leaving the current AI option k costs `switch_cost_base + lock_in(tenure)` utility; leaving the
//! current billing provider additionally costs `egress_weight · egress_fee`. In a logit these
//! costs multiply the weight of every alternative by `exp(−cost)`, so they can be prepared once
//! per tick as tables and looked up per enterprise.

/// Integration lock-in after `tenure` months: grows linearly and stops at `cap_months`.
pub fn lock_in(tenure: u32, per_month: f64, cap_months: u32) -> f64 {
    per_month * f64::from(tenure.min(cap_months))
}

/// Total switching cost (utility) of leaving the current option, excluding egress.
pub fn switching_cost(base: f64, tenure: u32, per_month: f64, cap_months: u32) -> f64 {
    base + lock_in(tenure, per_month, cap_months)
}

/// `exp(−switching_cost)` for every tenure from 0 to `cap_months` (longer tenures use the last).
pub fn stay_factor_table(base: f64, per_month: f64, cap_months: u32) -> Vec<f64> {
    (0..=cap_months)
        .map(|t| (-switching_cost(base, t, per_month, cap_months)).exp())
        .collect()
}

/// Egress cost (utility) of leaving a provider that charges `egress_fee` (fraction of annual
/// spend).
pub fn egress_cost(egress_fee: f64, egress_weight: f64) -> f64 {
    egress_fee * egress_weight
}

/// Egress fee after regulation: capped at `cap` (the EU Data Act's ban is a cap of zero).
pub fn regulated_egress_fee(egress_fee: f64, cap: Option<f64>) -> f64 {
    match cap {
        Some(c) => egress_fee.min(c),
        None => egress_fee,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_in_grows_with_tenure_then_stops() {
        assert_eq!(lock_in(0, 0.1, 24), 0.0);
        assert!((lock_in(10, 0.1, 24) - 1.0).abs() < 1e-12);
        assert_eq!(lock_in(24, 0.1, 24), lock_in(99, 0.1, 24));
    }

    #[test]
    fn stay_factors_fall_with_tenure() {
        let t = stay_factor_table(1.0, 0.05, 12);
        assert_eq!(t.len(), 13);
        assert!((t[0] - (-1.0f64).exp()).abs() < 1e-15);
        assert!(t.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn a_ban_zeroes_egress_and_a_cap_only_lowers_it() {
        assert_eq!(regulated_egress_fee(0.06, Some(0.0)), 0.0);
        assert_eq!(regulated_egress_fee(0.06, Some(0.02)), 0.02);
        assert_eq!(regulated_egress_fee(0.01, Some(0.02)), 0.01);
        assert_eq!(regulated_egress_fee(0.06, None), 0.06);
        assert!((egress_cost(0.06, 10.0) - 0.6).abs() < 1e-12);
    }

    #[test]
    fn switching_cost_is_base_plus_capped_lock_in() {
        assert_eq!(switching_cost(2.0, 0, 0.1, 12), 2.0);
        assert!((switching_cost(2.0, 5, 0.1, 12) - 2.5).abs() < 1e-12);
        assert!((switching_cost(2.0, 40, 0.1, 12) - 3.2).abs() < 1e-12);
        // Without any cost, staying and leaving weigh the same.
        assert!(stay_factor_table(0.0, 0.0, 3).iter().all(|&f| f == 1.0));
    }
}
