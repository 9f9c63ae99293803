//! Consumer surplus per workload of the enterprise choices, from this month's offer: the
//! log-sum of [`super::welfare`] over a representative enterprise of each suite.
//!
//! An option k is offered at price `P_k` with utility `V_k = a_k − β·ln P_k`; an enterprise
//! using suite s adds `bonus_sk` (the suite bundle). Per unit of workload,
//!
//! ```text
//! iv = Σ_s w_s · (ln(exp V_0 + Σ_k exp(V_k + bonus_sk)) − V_0)       (inclusive value, utility)
//! λ  = Σ_s w_s · β·Σ_k (s_sk/P_k) / Σ_k s_sk                          (local marginal utility of money)
//! cs = iv / λ_ref
//! ```
//!
//! `w_s` is the share of enterprises on suite s. With log-price utility the marginal utility of
//! money moves with prices, and dividing by this month's own λ would let a price rise *raise*
//! measured surplus (1/λ grows with the price faster than the log-sum falls). So the money metric
//! uses a reference `λ_ref` that a scenario's own prices do not move: the local λ of the run's
//! initial offer, moved by the cost trend (see `docs/MODEL.md` 7.13). Then surplus falls whenever
//! any price rises, and at the reference prices a uniform cut Δ raises `cs` by Δ × the inside
//! share (the envelope property). Away from the reference prices a cut counts Δ × inside share /
//! [`reference_ratio`]; [`at_marginal_utility`] converts a comparison at the base's own λ
//! instead. Data gravity, vendor ties and switching costs differ enterprise by enterprise and
//! are left out: the measure is what a new workload of a plain enterprise of each suite gains
//! over the outside option, applied to every workload.

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

/// Inclusive value and local marginal utility of money of one unit of workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Valuation {
    /// `iv`, utility units.
    pub inclusive_value: f64,
    /// `λ`, utility per price unit (0 when nothing is offered).
    pub marginal_utility: f64,
}

/// The valuation of one unit of workload (see the module documentation). `suites` holds, per
/// suite, its weight `w_s` and the bonus of each option (empty: none).
pub fn valuation(beta: f64, options: &[Offered], outside_utility: f64, suites: &[(f64, Vec<f64>)]) -> Valuation {
    if options.is_empty() {
        return Valuation {
            inclusive_value: 0.0,
            marginal_utility: 0.0,
        };
    }
    let products: Vec<Product> = options
        .iter()
        // a_k = V_k + β ln P_k, so that the price term at fee 0 and fixed = P_k gives V_k back.
        .map(|o| Product::new(o.utility + beta * o.price.ln(), o.price))
        .collect();
    let segments: Vec<Segment> = suites
        .iter()
        .map(|(weight, bonus)| Segment {
            mass: *weight,
            outside_utility,
            bonus: bonus.clone(),
        })
        .collect();
    let m = Market {
        form: PriceForm::Log { beta },
        products,
        segments,
    };
    let fees = vec![0.0; options.len()];
    let (mut iv, mut lambda) = (0.0, 0.0);
    for (g, seg) in m.segments.iter().enumerate() {
        iv += seg.mass * welfare::inclusive_value(&m, &fees, g);
        lambda += seg.mass * welfare::marginal_utility_of_money(&m, &fees, g).unwrap_or(0.0);
    }
    Valuation {
        inclusive_value: iv,
        marginal_utility: lambda,
    }
}

/// Surplus per unit of workload in price units: `iv / λ_ref` (0 without a reference).
pub fn per_unit(v: &Valuation, reference_marginal_utility: f64) -> f64 {
    if reference_marginal_utility > 0.0 {
        v.inclusive_value / reference_marginal_utility
    } else {
        0.0
    }
}

/// How far the money metric's reference is from this month's own marginal utility of money:
/// `λ_ref / λ` (0 when nothing is offered). A small uniform price change Δ moves `per_unit` by
/// Δ × inside share / this ratio, so above 1 the US$ surplus understates what a price change is
/// worth to an enterprise at this month's prices, by this factor.
pub fn reference_ratio(v: &Valuation, reference_marginal_utility: f64) -> f64 {
    if v.marginal_utility > 0.0 {
        reference_marginal_utility / v.marginal_utility
    } else {
        0.0
    }
}

/// A run's surplus in money at another run's marginal utility of money `base_mu` (this month's
/// own λ of the base run in a comparison): `W / λ_base`, with the run's utility mass
/// `W = cs_reference · λ_ref = cs_reference · reference_ratio · own_mu`. Paired with the base's
/// own `W_b / λ_b`, the difference `(W − W_b) / λ_b` converts a change of surplus at the base's
/// prices, whatever reference each run's `cs_reference` used. 0 when `base_mu` is not positive.
pub fn at_marginal_utility(cs_reference: f64, reference_ratio: f64, own_mu: f64, base_mu: f64) -> f64 {
    if base_mu > 0.0 {
        cs_reference * reference_ratio * own_mu / base_mu
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(beta: f64, a: &[f64], prices: &[f64]) -> Vec<Offered> {
        a.iter()
            .zip(prices)
            .map(|(a, &price)| Offered {
                utility: a - beta * price.ln(),
                price,
            })
            .collect()
    }

    /// One suite without bonuses, outside utility 0.
    fn plain(beta: f64, a: &[f64], prices: &[f64]) -> Valuation {
        valuation(beta, &offer(beta, a, prices), 0.0, &[(1.0, vec![])])
    }

    /// The inside share of [`plain`], from the options' weights (the outside weighs e^0 = 1).
    fn inside_share(beta: f64, a: &[f64], prices: &[f64]) -> f64 {
        let w: f64 = offer(beta, a, prices).iter().map(|o| o.utility.exp()).sum();
        w / (1.0 + w)
    }

    /// The slope of [`plain`]'s `per_unit` in a uniform cut Δ of every price at `prices`
    /// (central difference), at the reference `reference`.
    fn cut_slope(beta: f64, a: &[f64], prices: &[f64], reference: f64) -> f64 {
        let d = 1e-5;
        let cs = |delta: f64| {
            let p: Vec<f64> = prices.iter().map(|p| p - delta).collect();
            per_unit(&plain(beta, a, &p), reference)
        };
        (cs(d) - cs(-d)) / (2.0 * d)
    }

    #[test]
    fn one_option_gives_the_closed_form_log_sum_and_marginal_utility() {
        // One option: iv = ln(1 + e^{V − V0}), λ = β / P.
        let (beta, price, v, v0) = (1.5, 4.0, 0.3, -0.2);
        let val = valuation(beta, &[Offered { utility: v, price }], v0, &[(1.0, vec![])]);
        assert!((val.inclusive_value - (1.0 + (v - v0).exp()).ln()).abs() < 1e-12);
        assert!((val.marginal_utility - beta / price).abs() < 1e-12);
    }

    #[test]
    fn at_the_reference_a_uniform_price_cut_raises_surplus_by_the_inside_share() {
        // Envelope property with λ held at its value at the reference prices.
        let beta = 1.5;
        let (a, prices) = ([1.0, 1.4], [4.0, 6.0]);
        let base = plain(beta, &a, &prices);
        let inside = inside_share(beta, &a, &prices);
        let slope = cut_slope(beta, &a, &prices, base.marginal_utility);
        assert!(
            (slope - inside).abs() / inside < 1e-6,
            "slope {slope} vs inside share {inside}"
        );
        // Broken: this month's own λ in place of the reference misses it by far.
        let d = 1e-5;
        let own = |delta: f64| {
            let p: Vec<f64> = prices.iter().map(|p| p - delta).collect();
            let v = plain(beta, &a, &p);
            per_unit(&v, v.marginal_utility)
        };
        let own_slope = (own(d) - own(-d)) / (2.0 * d);
        assert!((own_slope - inside).abs() / inside > 0.1, "{own_slope}");
    }

    #[test]
    fn a_uniform_price_rise_by_x_moves_the_reference_ratio_by_x() {
        // λ = β Σ_k (s_k / P_k) / Σ_k s_k: scaling every price by x shifts every V_k by
        // −β ln x, which leaves the within-inside shares as they are, so λ falls to λ / x.
        let (beta, x) = (1.5, 1.1);
        let (a, prices) = ([1.0, 1.4], [4.0, 6.0]);
        let suites = [(0.6, vec![]), (0.4, vec![0.3, 0.0])];
        let base = valuation(beta, &offer(beta, &a, &prices), -0.5, &suites);
        let risen: Vec<f64> = prices.iter().map(|p| p * x).collect();
        let later = valuation(beta, &offer(beta, &a, &risen), -0.5, &suites);
        assert!((reference_ratio(&base, base.marginal_utility) - 1.0).abs() < 1e-15);
        let ratio = reference_ratio(&later, base.marginal_utility);
        assert!((ratio - x).abs() < 1e-12, "{ratio}");
        // The ratio is the factor by which a small cut's surplus falls short of Δ × inside share.
        let inside = inside_share(beta, &a, &risen);
        let slope = cut_slope(beta, &a, &risen, base.marginal_utility);
        let r = reference_ratio(&plain(beta, &a, &risen), base.marginal_utility);
        assert!((slope * r - inside).abs() / inside < 1e-6, "slope {slope}, ratio {r}");
        assert_eq!(reference_ratio(&valuation(beta, &[], 0.0, &suites), 1.0), 0.0);
    }

    #[test]
    fn at_the_base_marginal_utility_a_small_uniform_cut_is_worth_its_quantity() {
        // Base: prices far from the reference (a later month). The scenario cuts every price
        // by Δ. Converted at the base's own λ, the change is Δ × inside share (the envelope
        // property at the base's prices), whichever reference the runs' surplus used.
        let beta = 1.5;
        let (a, p0) = ([1.0, 1.4], [4.0, 6.0]);
        let reference = plain(beta, &a, &p0).marginal_utility;
        let base_prices = [1.5, 2.5];
        let base = plain(beta, &a, &base_prices);
        let d = 1e-5;
        let cut: Vec<f64> = base_prices.iter().map(|p| p - d).collect();
        let scen = plain(beta, &a, &cut);
        let money = |v: &Valuation| {
            at_marginal_utility(
                per_unit(v, reference),
                reference_ratio(v, reference),
                v.marginal_utility,
                base.marginal_utility,
            )
        };
        let inside = inside_share(beta, &a, &base_prices);
        let gain = (money(&scen) - money(&base)) / d;
        assert!(
            (gain - inside).abs() / inside < 1e-4,
            "gain {gain} vs inside share {inside}"
        );
        // The base's own conversion is its inclusive value over its own λ.
        assert!((money(&base) - base.inclusive_value / base.marginal_utility).abs() < 1e-12);
        // Broken: at the fixed reference (prices 4 and 6, against 1.5 and 2.5 now) the same cut
        // counts by the factor 1 / ratio, here more than twice its worth.
        let at_reference = (per_unit(&scen, reference) - per_unit(&base, reference)) / d;
        assert!(
            reference_ratio(&base, reference) < 0.5,
            "{}",
            reference_ratio(&base, reference)
        );
        assert!(at_reference > 2.0 * inside, "{at_reference} vs {inside}");
    }

    #[test]
    fn any_price_rise_lowers_surplus_at_a_fixed_reference() {
        let beta = 1.5;
        let (a, prices) = ([1.0, 1.4], [4.0, 6.0]);
        let reference = plain(beta, &a, &prices).marginal_utility;
        let cs = |p: [f64; 2]| per_unit(&plain(beta, &a, &p), reference);
        assert!(cs([4.4, 6.0]) < cs(prices) && cs([4.0, 6.6]) < cs(prices));
        assert!(cs([8.0, 12.0]) < cs([4.4, 6.6]));
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
        let iv = |suites: &[(f64, Vec<f64>)]| valuation(2.0, &opts, 0.0, suites).inclusive_value;
        let plain = iv(&[(1.0, vec![])]);
        let half = iv(&[(0.5, vec![]), (0.5, vec![1.0, 0.0])]);
        let all = iv(&[(1.0, vec![1.0, 0.0])]);
        assert!(plain < half && half < all);
        assert!((half - 0.5 * (plain + all)).abs() < 1e-12);
    }
}
