//! Welfare of a logit market ([`crate::econ::bertrand::Market`]): consumer surplus by the
//! Small–Rosen / McFadden log-sum. (Sellers' profits and Lerner indices of the running model are
//! in [`crate::econ::pricing`].)
//!
//! ```text
//! CS_g = M_g · (ln(exp U_g0 + Σ_k exp U_gk) − U_g0) / λ_g
//! λ_g  = α                                  (linear form: the marginal utility of money)
//! λ_g  = β · Σ_k (s_gk / P_k) / Σ_k s_gk     (log form: β over the share-weighted harmonic-mean
//!                                            inside price, the local marginal utility of money)
//! ```
//!
//! The log-sum is measured relative to the outside option, so `CS_g ≥ 0` and the level means "what
//! the inside options are worth to this segment over going without". No income effects.
//!
//! With the log form utility is not quasi-linear in money, so any money metric is local. The local
//! `λ_g` makes the envelope property exact at the point of evaluation: a uniform cut `Δ` of every
//! inside price changes the log-sum by `Δ·Σ_k s_gk·β/P_k` to first order, which `λ_g` converts to
//! `Δ·M_g·Σ_k s_gk`, the money saved on the inside quantity. But `λ_g` itself moves with prices, so
//! differences of CS *levels* add a first-order term `(log-sum − U_g0)·Δ(1/λ_g)`: compare price
//! changes with [`surplus_change`], which holds λ at the mean of its two endpoint values.
//!
//! Only the mass choosing this month is covered; the installed base pays the price without
//! choosing, so a price change moves `ΔP·B` between it and the seller (not measured here).

use crate::econ::bertrand::{Market, PriceForm, log_sum, shares};

/// `ln(exp U_g0 + Σ_k exp U_gk) − U_g0 ≥ 0`: segment g's inclusive value over the outside option.
pub fn inclusive_value(m: &Market, fees: &[f64], g: usize) -> f64 {
    (log_sum(m, fees, g) - m.segments[g].outside_utility).max(0.0)
}

/// `λ_g`: the (local, for the log form) marginal utility of money of segment g; `None` for the
/// log form when no inside option has a positive share.
pub fn marginal_utility_of_money(m: &Market, fees: &[f64], g: usize) -> Option<f64> {
    match m.form {
        PriceForm::Linear { alpha } => Some(alpha),
        PriceForm::Log { beta } => {
            let (s, _) = shares(m, fees, g);
            let inside: f64 = s.iter().sum();
            let weighted: f64 = s.iter().enumerate().map(|(k, sk)| sk / m.price(fees, k)).sum();
            (inside > 0.0 && weighted > 0.0).then(|| beta * weighted / inside)
        }
    }
}

/// `CS_g` in money units (price × quantity).
pub fn segment_surplus(m: &Market, fees: &[f64], g: usize) -> f64 {
    match marginal_utility_of_money(m, fees, g) {
        Some(lambda) => m.segments[g].mass * inclusive_value(m, fees, g) / lambda,
        None => 0.0,
    }
}

/// `Σ_g CS_g`.
pub fn consumer_surplus(m: &Market, fees: &[f64]) -> f64 {
    (0..m.segments.len()).map(|g| segment_surplus(m, fees, g)).sum()
}

/// Change of consumer surplus from fees `before` to `after`:
/// `Σ_g M_g (log-sum_after − log-sum_before) / λ̄_g`, `λ̄_g` the mean of the local `λ_g` at both
/// ends (exact for the linear form; second-order accurate for the log form).
pub fn surplus_change(m: &Market, before: &[f64], after: &[f64]) -> f64 {
    (0..m.segments.len())
        .map(|g| {
            let lambda = match (
                marginal_utility_of_money(m, before, g),
                marginal_utility_of_money(m, after, g),
            ) {
                (Some(a), Some(b)) => 0.5 * (a + b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => return 0.0,
            };
            m.segments[g].mass * (log_sum(m, after, g) - log_sum(m, before, g)) / lambda
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::bertrand::{Product, Segment};

    fn product(a: f64, fixed: f64) -> Product {
        Product::new(a, fixed)
    }

    fn market(form: PriceForm) -> Market {
        Market {
            form,
            products: vec![product(2.0, 1.0), product(1.2, 0.5), product(0.4, 2.5)],
            segments: vec![
                Segment {
                    mass: 3.0,
                    outside_utility: 0.0,
                    bonus: vec![],
                },
                Segment {
                    mass: 1.5,
                    outside_utility: 0.8,
                    bonus: vec![0.0, 1.0, 0.0],
                },
            ],
        }
    }

    /// Inside quantity `Σ_g M_g Σ_k s_gk`, computed here from the logit formula directly.
    fn inside_quantity(m: &Market, fees: &[f64]) -> f64 {
        m.segments
            .iter()
            .map(|seg| {
                let w: Vec<f64> = m
                    .products
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        let price = p.fixed + fees[k];
                        let pt = match m.form {
                            PriceForm::Log { beta } => beta * price.ln(),
                            PriceForm::Linear { alpha } => alpha * price,
                        };
                        (p.base_utility + seg.bonus.get(k).copied().unwrap_or(0.0) - pt).exp()
                    })
                    .collect();
                let inside: f64 = w.iter().sum();
                seg.mass * inside / (inside + seg.outside_utility.exp())
            })
            .sum()
    }

    /// A uniform cut Δ of every inside price (here: of every fee, so the fixed parts stay) raises
    /// CS by Δ × inside quantity to first order: exact for the linear form, and with the local λ
    /// for the log form. Broken variants (λ from the arithmetic-mean price, or differencing CS
    /// levels with λ re-evaluated) miss the tolerance.
    #[test]
    fn envelope_uniform_price_cut_raises_surplus_by_the_inside_quantity() {
        let fees = [1.5, 0.7, 0.4];
        let delta = 1e-5;
        let cut: Vec<f64> = fees.iter().map(|f| f - delta).collect();
        for form in [PriceForm::Linear { alpha: 0.9 }, PriceForm::Log { beta: 1.5 }] {
            let m = market(form);
            // Symmetric difference: the first-order effect at `fees`, free of the O(Δ) curvature.
            let up: Vec<f64> = fees.iter().map(|f| f + delta).collect();
            let expected = delta * inside_quantity(&m, &fees);
            let got = 0.5 * surplus_change(&m, &up, &cut);
            assert!(
                ((got - expected) / expected).abs() < 1e-3,
                "{form:?}: {got} vs {expected}"
            );
            // One-sided change also matches within the tolerance.
            let one = surplus_change(&m, &fees, &cut);
            assert!(((one - expected) / expected).abs() < 1e-3);
            if let PriceForm::Log { beta } = form {
                // Broken: λ = β / (share-weighted arithmetic-mean price).
                let wrong: f64 = (0..m.segments.len())
                    .map(|g| {
                        let (s, _) = shares(&m, &fees, g);
                        let inside: f64 = s.iter().sum();
                        let mean: f64 =
                            s.iter().enumerate().map(|(k, sk)| sk * m.price(&fees, k)).sum::<f64>() / inside;
                        m.segments[g].mass * (log_sum(&m, &cut, g) - log_sum(&m, &fees, g)) * mean / beta
                    })
                    .sum();
                assert!(((wrong - expected) / expected).abs() > 1e-2, "arithmetic mean {wrong}");
                // Broken: difference of CS levels, each with its own λ.
                let levels = consumer_surplus(&m, &cut) - consumer_surplus(&m, &fees);
                assert!(((levels - expected) / expected).abs() > 1e-2, "levels {levels}");
            } else {
                // Linear: levels differences are exact too.
                let levels = consumer_surplus(&m, &cut) - consumer_surplus(&m, &fees);
                assert!(((levels - expected) / expected).abs() < 1e-3);
            }
        }
    }

    #[test]
    fn surplus_is_the_log_sum_over_lambda_and_zero_without_inside_options() {
        let m = market(PriceForm::Linear { alpha: 2.0 });
        let fees = [1.0, 1.0, 1.0];
        let mut expected = 0.0;
        for seg in &m.segments {
            let z: f64 = m
                .products
                .iter()
                .enumerate()
                .map(|(k, p)| (p.base_utility + seg.bonus.get(k).copied().unwrap_or(0.0) - 2.0 * (p.fixed + 1.0)).exp())
                .sum::<f64>()
                + seg.outside_utility.exp();
            expected += seg.mass * (z.ln() - seg.outside_utility) / 2.0;
        }
        assert!((consumer_surplus(&m, &fees) - expected).abs() < 1e-12);
        // Prohibitive prices: no surplus over the outside option.
        let huge = [1e6, 1e6, 1e6];
        assert!(consumer_surplus(&m, &huge) < 1e-9);
        let log = market(PriceForm::Log { beta: 1.5 });
        assert!(consumer_surplus(&log, &fees) > 0.0);
        // A price rise lowers surplus, measured as a change (λ held between the endpoints)…
        assert!(surplus_change(&log, &[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0]) < 0.0);
        // …while the log-form CS *level* with its local λ can rise with price (1/λ grows with the
        // harmonic-mean price faster than the log-sum falls): levels are not comparable.
        assert!(consumer_surplus(&log, &[1.0, 1.0, 1.0]) < consumer_surplus(&log, &[2.0, 2.0, 2.0]));
    }

    #[test]
    fn local_lambda_is_beta_over_the_harmonic_mean_price() {
        let m = market(PriceForm::Log { beta: 1.5 });
        let fees = [1.0, 0.5, 0.5];
        let (s, _) = shares(&m, &fees, 0);
        let prices = [2.0, 1.0, 3.0];
        let harmonic = s.iter().sum::<f64>() / s.iter().zip(prices).map(|(sk, p)| sk / p).sum::<f64>();
        let lambda = marginal_utility_of_money(&m, &fees, 0).unwrap();
        assert!((lambda - 1.5 / harmonic).abs() < 1e-12);
    }
}
