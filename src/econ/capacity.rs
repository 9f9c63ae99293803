//! Provider capacity: investment orders, build lag, and rationing when demand exceeds capacity.

use std::collections::VecDeque;

/// Capacity ordered this month (kGPU): a baseline growth rate plus a response to load above
/// target. `order = capacity · (invest_rate + invest_response · max(0, load − target))`.
pub fn investment_order(capacity: f64, load: f64, target: f64, invest_rate: f64, invest_response: f64) -> f64 {
    capacity * (invest_rate + invest_response * (load.min(2.0) - target).max(0.0))
}

/// Capacity under construction: one slot per month of build lag.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    slots: VecDeque<f64>,
}

impl Pipeline {
    /// An empty pipeline for a build lag of `lag_months` (0 = orders arrive the same month).
    pub fn new(lag_months: u32) -> Pipeline {
        Pipeline {
            slots: std::iter::repeat_n(0.0, lag_months as usize).collect(),
        }
    }

    /// A pipeline pre-filled as if `monthly` had been ordered every month (steady state).
    pub fn steady(lag_months: u32, monthly: f64) -> Pipeline {
        Pipeline {
            slots: std::iter::repeat_n(monthly, lag_months as usize).collect(),
        }
    }

    /// Places this month's order and returns the capacity that comes into service now.
    pub fn advance(&mut self, order: f64) -> f64 {
        self.slots.push_back(order);
        self.slots.pop_front().unwrap_or(0.0)
    }

    /// Total capacity still under construction.
    pub fn in_flight(&self) -> f64 {
        self.slots.iter().sum()
    }
}

/// Fraction of demand served when `demand` meets `capacity` (proportional rationing).
pub fn served_fraction(demand: f64, capacity: f64) -> f64 {
    if demand <= capacity || demand <= 0.0 {
        1.0
    } else {
        (capacity / demand).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_arrive_after_the_build_lag() {
        let mut p = Pipeline::new(3);
        assert_eq!(p.advance(10.0), 0.0);
        assert_eq!(p.advance(0.0), 0.0);
        assert_eq!(p.advance(0.0), 0.0);
        assert_eq!(p.advance(0.0), 10.0);
        assert_eq!(p.in_flight(), 0.0);
    }

    #[test]
    fn zero_lag_delivers_immediately() {
        let mut p = Pipeline::new(0);
        assert_eq!(p.advance(4.0), 4.0);
        assert_eq!(p.in_flight(), 0.0);
    }

    #[test]
    fn investment_responds_to_load_above_target_only() {
        let base = investment_order(100.0, 0.5, 0.85, 0.02, 0.5);
        assert!((base - 2.0).abs() < 1e-12);
        assert!(investment_order(100.0, 1.0, 0.85, 0.02, 0.5) > base);
    }

    #[test]
    fn rationing_serves_capacity_over_demand() {
        assert_eq!(served_fraction(50.0, 100.0), 1.0);
        assert_eq!(served_fraction(200.0, 100.0), 0.5);
        assert_eq!(served_fraction(0.0, 0.0), 1.0);
        assert_eq!(served_fraction(10.0, 0.0), 0.0);
    }

    #[test]
    fn a_steady_pipeline_delivers_the_monthly_order_and_holds_lag_months_of_it() {
        let mut p = Pipeline::steady(4, 2.5);
        assert_eq!(p.in_flight(), 10.0);
        for _ in 0..4 {
            assert_eq!(p.advance(2.5), 2.5);
        }
        assert_eq!(p.in_flight(), 10.0);
    }
}
