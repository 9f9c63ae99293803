//! Lab finances (issue 10 §3): a lab's cash takes in funding and revenue and pays its cash
//! compute bills; the lab spends its cash over a runway, so labs that win customers grow and
//! labs that lose them shrink.
//!
//! ```text
//! budget_t = max(0, F_t + cash_t / runway)              (F_t: the recurring funding flow)
//! cash_{t+1} = cash_t + rounds_t + F_t + revenue_t − cash bills_t
//! ```
//!
//! `revenue_t` is enterprise-derived revenue after revenue and profit shares; cash bills are the
//! lab's cash payments to hosts and take-or-pay shortfalls (credit-paid compute is no cash).
//! The training plan spends `budget_t + ρ · revenue_{t−1}` (and credits); the inference compute
//! that enterprise revenue pays for is in the bills too, so the cash balance is the lab's
//! running profit and loss plus the money it raised.

/// The month's budget before reinvested revenue: the funding flow plus the cash spread over the
/// runway (a negative balance is repaid at the same rate), never below 0.
pub fn budget(flow_musd: f64, cash_musd: f64, runway_months: f64) -> f64 {
    (flow_musd + cash_musd / runway_months.max(1.0)).max(0.0)
}

/// Cash after a month: rounds raised, the funding flow and revenue in, cash bills out.
pub fn next_cash(cash_musd: f64, flow_musd: f64, revenue_musd: f64, cash_bills_musd: f64) -> f64 {
    cash_musd + flow_musd + revenue_musd - cash_bills_musd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cash_is_spent_over_the_runway_and_debt_repaid_at_the_same_rate() {
        // US$ 40 B over 24 months adds 1,667 a month to a flow of 2,500.
        assert!((budget(2500.0, 40_000.0, 24.0) - (2500.0 + 40_000.0 / 24.0)).abs() < 1e-9);
        // A debt of 2,400 takes 100 a month off the flow; a large debt leaves no budget.
        assert!((budget(500.0, -2400.0, 24.0) - 400.0).abs() < 1e-12);
        assert_eq!(budget(500.0, -24_000.0, 24.0), 0.0);
    }

    #[test]
    fn a_lab_that_wins_customers_grows_and_one_that_loses_them_shrinks() {
        // Two labs with the same funding flow and 200 of inference bills: one earns 500 a month
        // (a margin of +300 beyond its budget), the other 100 (−100). The first builds cash and
        // spends more; the second runs into debt and spends less than its flow.
        let run = |revenue: f64| {
            let mut cash = 0.0;
            for _ in 0..12 {
                let b = budget(1000.0, cash, 24.0);
                cash = next_cash(cash, 1000.0, revenue, b + 200.0);
            }
            cash
        };
        let (winner, loser) = (run(500.0), run(100.0));
        assert!(winner > 0.0 && loser < 0.0, "{winner} {loser}");
        assert!(budget(1000.0, winner, 24.0) > 1000.0 && budget(1000.0, loser, 24.0) < 1000.0);
        // Without the P&L (the old model) both budgets stay at the flow.
    }
}
