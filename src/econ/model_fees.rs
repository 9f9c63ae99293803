//! Model fees as prices the labs set: the enterprise AI choice as a [`bertrand`] market, and
//! one month's damped best response of every lab owner (docs/MODEL.md 7.13, "Model fees").
//!
//! Each offered option k (a lab's model on a provider's marketplace, or its direct API) is a
//! product with `fixed_k` the part of its price the lab does not set (the marketplace's
//! `price_p (1 + margin_p)`, or the direct API's compute `avg_host_price_l`) and fee `f_k`, so
//! `P_k = fixed_k + f_k` and the enterprise utility is `a_k − β ln P_k` as in the choice (7.6).
//! A lab sets the fee of each option on which it earns one (a licence, owner or listing path);
//! open-weight hosting earns none and keeps fee 0, but stays in the market as a rival. Labs with
//! one corporate owner price jointly. The fee's marginal cost is 0: the buyer pays the host for
//! the compute on a marketplace, and on its API the lab pays it out of `fixed_k`.
//!
//! Buyers: one segment per suite, with the suite bundle as bonus (as in `econ::surplus`; data
//! gravity and vendor ties are enterprise-specific and left out), weight `w_s`, choosing by the
//! logit with the outside option. A fee is charged every month on every unit on the option, and
//! a share `h` of the units chooses this month (new projects and reviews). A **forward-looking**
//! lab (`h = 1`) prices against its whole stock: the stock is the accumulation of choices at these
//! fees, so its installed base (harvest), the workloads it can win (invest) and the future months
//! of a workload won now all respond with the choosers' elasticity, and the first-order condition
//! is the static multi-product logit one, `f_j/P_j = 1/(β(1 − s_j))` for a single option (with
//! recapture `E_g` for an owner of several, [`bertrand`]). A **myopic** lab (`h = project +
//! review probability`) sees `1 − h` of its units as a base that pays this month's fee without
//! choosing, and harvests it: its fee is higher, up to the ceiling.

use super::bertrand::{self, Market, PriceForm, Product, Segment, Solver};

/// One offered AI option, as the fee game sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeeOption {
    /// `a_k`: utility before price (quality, brand, direct-API preference).
    pub base_utility: f64,
    /// `fixed_k > 0`: the price part the lab does not set, US$ per GPU-hour.
    pub fixed: f64,
    /// The fee this month, US$ per GPU-hour (0 where the lab earns none).
    pub fee: f64,
    /// Who sets the fee: the lab owner's id, or `None` where no fee is earned.
    pub owner: Option<usize>,
    /// `B_k`: workload units on the option now.
    pub installed: f64,
}

/// The demand side and the sellers' horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeDemand {
    /// `β`: enterprise utility per unit of log price.
    pub price_weight: f64,
    /// Utility of the outside option (no AI, self-hosting).
    pub outside_utility: f64,
    /// Per segment (suite), its weight `w_s` and the bonus of each option (empty: none).
    pub segments: Vec<(f64, Vec<f64>)>,
    /// `N`: all AI units, the outside option's included (the scale of the segments' masses).
    pub total_units: f64,
    /// `h ∈ (0, 1]`: the share of units that chooses at this month's fees (1: forward-looking).
    pub horizon_share: f64,
}

/// The fee game as a [`bertrand`] market over the fee-setting options (`priced`, the indices of
/// `options` with an owner, in order): segment masses `h · w_s · N` (weights normalised),
/// installed bases `(1 − h) · B_k`. Options without a fee-setting owner keep their price, so
/// they are folded into each segment's outside utility, `ln(e^{U_0} + Σ_k e^{U_sk})`: the
/// same choice probabilities for every priced option, and fewer products for every best
/// response to revisit.
pub fn fee_market(options: &[FeeOption], demand: &FeeDemand) -> (Market, Vec<usize>) {
    let h = demand.horizon_share.clamp(0.0, 1.0);
    let beta = demand.price_weight;
    let total_weight: f64 = demand.segments.iter().map(|(w, _)| w).sum();
    let priced: Vec<usize> = (0..options.len()).filter(|&k| options[k].owner.is_some()).collect();
    let products = priced
        .iter()
        .map(|&k| {
            let o = &options[k];
            Product {
                owner: o.owner.unwrap_or(0),
                installed: (1.0 - h) * o.installed,
                ..Product::new(o.base_utility, o.fixed)
            }
        })
        .collect();
    // Segments without weight (suites nobody uses) cannot move a best response: left out.
    let segments = demand
        .segments
        .iter()
        .filter(|(w, _)| *w > 0.0)
        .map(|(w, bonus)| {
            let fixed_utilities: Vec<f64> = (0..options.len())
                .filter(|&k| options[k].owner.is_none())
                .map(|k| {
                    let o = &options[k];
                    o.base_utility + bonus.get(k).copied().unwrap_or(0.0) - beta * (o.fixed + o.fee).ln()
                })
                .collect();
            let top = fixed_utilities.iter().fold(demand.outside_utility, |a, &b| a.max(b));
            let outside_utility = top
                + ((demand.outside_utility - top).exp() + fixed_utilities.iter().map(|u| (u - top).exp()).sum::<f64>())
                    .ln();
            Segment {
                mass: if total_weight > 0.0 {
                    h * demand.total_units * w / total_weight
                } else {
                    0.0
                },
                outside_utility,
                bonus: priced.iter().map(|&k| bonus.get(k).copied().unwrap_or(0.0)).collect(),
            }
        })
        .collect();
    (
        Market {
            form: PriceForm::Log { beta },
            products,
            segments,
        },
        priced,
    )
}

/// Next month's fees: every fee-setting owner's best response to the current fees (Jacobi), each
/// fee moving `damping` of the way to it; fees stay in `[0, ceiling_ratio · fixed_k]` (the
/// ceiling is `pricing.max_price_ratio` applied to the price part the lab does not set).
pub fn next_fees(options: &[FeeOption], demand: &FeeDemand, damping: f64, ceiling_ratio: f64) -> Vec<f64> {
    let (market, priced) = fee_market(options, demand);
    // Product j of the market is option priced[j].
    let fees: Vec<f64> = priced.iter().map(|&k| options[k].fee).collect();
    let mut next: Vec<f64> = options.iter().map(|o| o.fee).collect();
    let mut owners: Vec<usize> = options.iter().filter_map(|o| o.owner).collect();
    owners.sort_unstable();
    owners.dedup();
    // Fees move by a damped step a month from where they were: a best response searched from
    // the current fee by Gauss–Seidel sweeps, to 1e-6 US$/GPU-h, is exact enough (the fee FOC
    // of a forward-looking lab has one root), and a third of the cost with Newton steps. Each
    // owner's ceiling is the largest `ceiling_ratio · fixed` of its options.
    let requests: Vec<(usize, Solver)> = owners
        .iter()
        .map(|&owner| {
            let f_max = (0..priced.len())
                .filter(|&j| market.products[j].owner == owner)
                .map(|j| ceiling_ratio * market.products[j].fixed)
                .fold(0.0, f64::max);
            let solver = Solver {
                f_max,
                tol: 1e-6,
                warm_start: true,
                newton: false,
                ..Solver::default()
            };
            (owner, solver)
        })
        .filter(|(_, solver)| solver.f_max > 0.0)
        .collect();
    for ((owner, _), br) in requests.iter().zip(bertrand::best_responses(&market, &fees, &requests)) {
        for j in (0..priced.len()).filter(|&j| market.products[j].owner == *owner) {
            next[priced[j]] = bertrand::damped_step(fees[j], br.fees[j], damping);
        }
    }
    next
}

/// The fee equilibrium: [`next_fees`] without damping (Jacobi best responses) iterated from `options`' fees until no
/// fee moves by more than `1e-7` of its fixed price part, at most 500 times. The run's first month starts
/// here, so that the initial market is in equilibrium rather than at arbitrary fees.
pub fn equilibrium_fees(options: &[FeeOption], demand: &FeeDemand, ceiling_ratio: f64) -> Vec<f64> {
    let mut current = options.to_vec();
    for _ in 0..500 {
        let next = next_fees(&current, demand, 1.0, ceiling_ratio);
        let moved = next
            .iter()
            .zip(&current)
            .map(|(n, o)| (n - o.fee).abs() / o.fixed.max(1e-12))
            .fold(0.0, f64::max);
        for (o, f) in current.iter_mut().zip(next) {
            o.fee = f;
        }
        if moved < 1e-7 {
            break;
        }
    }
    current.iter().map(|o| o.fee).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(horizon_share: f64) -> FeeDemand {
        FeeDemand {
            price_weight: 3.0,
            outside_utility: 0.0,
            segments: vec![(1.0, vec![])],
            total_units: 100.0,
            horizon_share,
        }
    }

    fn option(base_utility: f64, fixed: f64, owner: Option<usize>, installed: f64) -> FeeOption {
        FeeOption {
            base_utility,
            fixed,
            fee: 1.0,
            owner,
            installed,
        }
    }

    fn solve(options: &mut [FeeOption], d: &FeeDemand) {
        let fees = equilibrium_fees(options, d, 50.0);
        for (o, f) in options.iter_mut().zip(fees) {
            o.fee = f;
        }
    }

    /// Closed-form logit shares of one segment without bonuses, independently of the module.
    fn logit(options: &[FeeOption], beta: f64, outside: f64) -> Vec<f64> {
        let e: Vec<f64> = options
            .iter()
            .map(|o| (o.base_utility - beta * (o.fixed + o.fee).ln()).exp())
            .collect();
        let total = outside.exp() + e.iter().sum::<f64>();
        e.iter().map(|x| x / total).collect()
    }

    /// The fixed point of `f = P/(β(1 − s))` solved by the test itself: each fee from the closed
    /// form `f = fixed/(β(1 − s) − 1)` at the current shares, iterated with damping.
    fn textbook(options: &[FeeOption], beta: f64) -> Vec<f64> {
        let mut o = options.to_vec();
        for _ in 0..20_000 {
            let s = logit(&o, beta, 0.0);
            for (x, sk) in o.iter_mut().zip(s) {
                let target = x.fixed / (beta * (1.0 - sk) - 1.0);
                x.fee += 0.2 * (target - x.fee);
            }
        }
        o.iter().map(|x| x.fee).collect()
    }

    #[test]
    fn forward_looking_fees_are_the_logit_bertrand_fixed_point() {
        // Three single-option labs (with installed bases, which a forward-looking lab prices as
        // part of its stock): the equilibrium is the textbook log-price logit Bertrand one.
        let mut options = vec![
            option(1.0, 5.5, Some(0), 40.0),
            option(0.5, 4.0, Some(1), 25.0),
            option(0.2, 3.0, Some(2), 10.0),
        ];
        let expected = textbook(&options, 3.0);
        solve(&mut options, &demand(1.0));
        let s = logit(&options, 3.0, 0.0);
        for (k, o) in options.iter().enumerate() {
            assert!(
                (o.fee - expected[k]).abs() < 1e-6,
                "lab {k}: {} vs {}",
                o.fee,
                expected[k]
            );
            let lerner = o.fee / (o.fixed + o.fee);
            assert!((lerner - 1.0 / (3.0 * (1.0 - s[k]))).abs() < 1e-8);
            // The linear-price markup 1/(β(1 − s)) (a solver with the wrong price form) differs.
            assert!((o.fee - 1.0 / (3.0 * (1.0 - s[k]))).abs() > 0.1);
        }
    }

    #[test]
    fn a_small_lab_charges_fixed_over_beta_minus_one() {
        // s → 0: f/P = 1/β, so f = fixed/(β − 1).
        let d = FeeDemand {
            outside_utility: 12.0,
            ..demand(1.0)
        };
        let mut options = vec![option(0.0, 4.0, Some(0), 0.0)];
        solve(&mut options, &d);
        assert!((options[0].fee - 4.0 / 2.0).abs() < 1e-3, "{}", options[0].fee);
    }

    #[test]
    fn where_demand_is_inelastic_the_fee_runs_to_the_ceiling() {
        // β(1 − s) ≤ 1: the profit rises with the fee for ever (β = 1.5, a dominant lab).
        let d = FeeDemand {
            price_weight: 1.5,
            outside_utility: -3.0,
            ..demand(1.0)
        };
        let options = vec![option(2.0, 4.0, Some(0), 0.0)];
        let fee = equilibrium_fees(&options, &d, 10.0)[0];
        assert!((fee - 40.0).abs() < 1e-6, "{fee}");
    }

    #[test]
    fn myopic_labs_harvest_their_base_and_a_larger_base_raises_the_fee() {
        let run = |h: f64, installed: f64| {
            let mut options = vec![option(1.0, 5.0, Some(0), installed), option(0.5, 4.0, Some(1), 20.0)];
            solve(&mut options, &demand(h));
            options[0].fee
        };
        let forward = run(1.0, 5.0);
        let (myopic, larger) = (run(0.8, 0.25), run(0.8, 0.5));
        assert!(myopic > forward + 0.1, "harvest: {myopic} vs {forward}");
        assert!(
            larger > myopic + 0.1,
            "a larger base is harvested harder: {larger} vs {myopic}"
        );
        assert!(larger < 49.0, "interior: {larger}");
        // A forward-looking lab's fee does not depend on its installed base.
        assert!((run(1.0, 10.0) - forward).abs() < 1e-9);
    }

    #[test]
    fn common_ownership_of_two_labs_raises_both_fees() {
        let run = |second_owner: usize| {
            let mut options = vec![
                option(1.0, 5.0, Some(0), 20.0),
                option(1.0, 5.0, Some(second_owner), 20.0),
                option(1.0, 5.0, Some(2), 20.0),
            ];
            solve(&mut options, &demand(1.0));
            (options[0].fee, options[1].fee)
        };
        let (a, b) = run(1);
        let (a_joint, b_joint) = run(0);
        assert!(
            a_joint > a + 0.01 && b_joint > b + 0.01,
            "{a} {b} → {a_joint} {b_joint}"
        );
    }

    #[test]
    fn options_without_a_fee_keep_it_at_zero_and_still_compete() {
        let mut with_rival = vec![option(1.0, 5.0, Some(0), 20.0), option(1.0, 2.0, None, 20.0)];
        with_rival[1].fee = 0.0;
        solve(&mut with_rival, &demand(1.0));
        assert_eq!(with_rival[1].fee, 0.0);
        let mut alone = vec![option(1.0, 5.0, Some(0), 20.0)];
        solve(&mut alone, &demand(1.0));
        assert!(
            alone[0].fee > with_rival[0].fee,
            "an open-weight rival disciplines the fee"
        );
    }

    #[test]
    fn a_higher_fixed_price_raises_the_fee_in_proportion_for_a_small_lab() {
        // The log form makes the fee ad valorem: f = fixed/(β(1 − s) − 1).
        let d = FeeDemand {
            outside_utility: 12.0,
            ..demand(1.0)
        };
        let fee = |fixed: f64| equilibrium_fees(&[option(0.0, fixed, Some(0), 0.0)], &d, 50.0)[0];
        assert!((fee(8.0) / fee(4.0) - 2.0).abs() < 1e-3);
    }

    #[test]
    fn damping_moves_a_fraction_of_the_way() {
        let d = demand(1.0);
        let options = vec![option(1.0, 5.0, Some(0), 20.0)];
        let full = next_fees(&options, &d, 1.0, 50.0)[0];
        let quarter = next_fees(&options, &d, 0.25, 50.0)[0];
        assert!((quarter - (1.0 + 0.25 * (full - 1.0))).abs() < 1e-12);
    }
}
