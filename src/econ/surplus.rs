//! Consumer surplus per workload of the enterprise choices, from this month's offer: the
//! log-sum of [`super::welfare`] over a representative enterprise of each suite.
//!
//! An option k is offered at price `P_k` with utility `V_k = a_k − β·ln P_k`; an enterprise
//! using suite s adds `bonus_sk` (the suite bundle). The surplus of one unit of workload is
//!
//! ```text
//! cs = Σ_s w_s · (ln(exp V_0 + Σ_k exp(V_k + bonus_sk)) − V_0) / λ_s,   λ_s = β·Σ_k (s_sk/P_k) / Σ_k s_sk
//! ```
//!
//! in price units (US$ per GPU-hour for AI options, price-index units for clouds), `w_s` the
//! share of enterprises on suite s. Data gravity, vendor ties and switching costs, which differ
//! enterprise by enterprise, are left out: the measure is what a new workload of a plain
//! enterprise of each suite gains over the outside option, applied to every workload.

use super::bertrand::{Market, PriceForm, Product, Segment};
use super::welfare;

/// One offered option: its utility at its price, and the price.
#[derive(Debug, Clone, Copy)]
pub struct Offered {
    /// `V_k`, including the price term.
    pub utility: f64,
    /// `P_k > 0`.
    pub price: f64,
}

/// Surplus per unit of workload (see the module documentation). `suites` holds, per suite, its
/// weight `w_s` and the bonus of each option (empty: none).
pub fn per_unit(beta: f64, options: &[Offered], outside_utility: f64, suites: &[(f64, Vec<f64>)]) -> f64 {
    if options.is_empty() {
        return 0.0;
    }
    let products: Vec<Product> = options
        .iter()
        .map(|o| Product {
            // a_k = V_k + β ln P_k, so that the price term at fee 0 and fixed = P_k gives V_k back.
            base_utility: o.utility + beta * o.price.ln(),
            fixed: o.price,
            cost: 0.0,
            owner: 0,
            installed: 0.0,
            capacity: None,
            future_months: 0.0,
        })
        .collect();
    let segments: Vec<Segment> = suites
        .iter()
        .map(|(weight, bonus)| Segment {
            mass: *weight,
            outside_utility: outside_utility,
            bonus: bonus.clone(),
        })
        .collect();
    let m = Market {
        form: PriceForm::Log { beta },
        products,
        segments,
    };
    welfare::consumer_surplus(&m, &vec![0.0; options.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_option_gives_the_closed_form_log_sum_over_the_local_marginal_utility() {
        // One option: cs = ln(1 + e^{V − V0}) / (β / P).
        let (beta, price, v, v0) = (1.5, 4.0, 0.3, -0.2);
        let cs = per_unit(beta, &[Offered { utility: v, price }], v0, &[(1.0, vec![])]);
        let expected = (1.0 + (v - v0).exp()).ln() * price / beta;
        assert!((cs - expected).abs() < 1e-12, "{cs} vs {expected}");
    }

    #[test]
    fn a_uniform_price_cut_raises_surplus_by_the_inside_quantity() {
        // Envelope property: d cs / d(−Δ) = inside share (per unit of workload).
        let beta = 1.5;
        let at = |cut: f64| -> (f64, f64) {
            let prices = [4.0 - cut, 6.0 - cut];
            let a = [1.0, 1.4];
            let opts: Vec<Offered> = (0..2)
                .map(|k| Offered {
                    utility: a[k] - beta * prices[k].ln(),
                    price: prices[k],
                })
                .collect();
            let inside: f64 = {
                let w: Vec<f64> = opts.iter().map(|o| o.utility.exp()).collect();
                w.iter().sum::<f64>() / (1.0 + w.iter().sum::<f64>())
            };
            (per_unit(beta, &opts, 0.0, &[(1.0, vec![])]), inside)
        };
        let d = 1e-4;
        let (lo, s_lo) = at(-d);
        let (hi, s_hi) = at(d);
        let slope = (hi - lo) / (2.0 * d);
        let inside = 0.5 * (s_lo + s_hi);
        // The local λ moves with price too: the derivative matches the quantity to first order
        // within the relative size of that drift (checked loosely here, exactly in welfare).
        assert!(
            (slope - inside).abs() / inside < 0.1,
            "slope {slope} vs inside share {inside}"
        );
    }

    #[test]
    fn a_suite_bonus_raises_its_users_surplus_only() {
        let opts = [
            Offered {
                utility: 0.0,
                price: 2.0,
            },
            Offered {
                utility: 0.0,
                price: 2.0,
            },
        ];
        let plain = per_unit(2.0, &opts, 0.0, &[(1.0, vec![])]);
        let half = per_unit(2.0, &opts, 0.0, &[(0.5, vec![]), (0.5, vec![1.0, 0.0])]);
        let all = per_unit(2.0, &opts, 0.0, &[(1.0, vec![1.0, 0.0])]);
        assert!(plain < half && half < all);
        assert!((half - 0.5 * (plain + all)).abs() < 1e-12);
    }
}
