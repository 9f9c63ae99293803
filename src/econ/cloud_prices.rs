//! General-cloud prices as prices the providers set: the enterprise cloud choice as a
//! [`bertrand`] market, the unit costs that make the configured starting indices an equilibrium,
//! and one month's damped best response of every provider owner (docs/MODEL.md 7.14).
//!
//! A provider's general-cloud price is its index `P_p` (1 = the market average at the start),
//! which enters the home choice as `a_p − β_c ln P_p` (7.5). A workload unit on provider p pays
//! `P_p` (times the US$ value of a unit) every month and costs `c_p`, so the margin is
//! `P_p − c_p`. Costs are not observed: they are what makes the observed (configured) starting
//! indices a Nash equilibrium of this game, the usual inversion of the first-order conditions
//! for marginal costs (Berry, Levinsohn and Pakes 1995). For a single-product owner facing one
//! segment the inversion is the closed form `c = P (1 − 1/(β_c (1 − s)))`; in general it solves
//! each owner's linear FOC system. Costs then stay fixed in index units (the index is relative;
//! cloud's gain on on-premises is the outside option's trend).
//!
//! Buyers, horizon and ownership as in the fee game (`econ::model_fees`): one segment per
//! productivity suite with the suite bundle and licensing penalties as bonuses (data gravity is
//! enterprise-specific and left out), the on-premises outside option, and a horizon share `h`:
//! 1 for a forward-looking provider (its stock responds with the choosers' elasticity), the
//! project and review probabilities' sum for a myopic one, which harvests the `1 − h` of its
//! units that do not choose this month. Providers with one corporate owner price jointly.

use super::bertrand::{self, Market, PriceForm, Product, Segment, Solver};
use super::model_fees::FeeDemand;

/// One provider's general cloud, as the price game sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CloudSeller {
    /// `a_p`: home utility before price (brand, AI pull).
    pub base_utility: f64,
    /// `P_p > 0`: the price index this month.
    pub index: f64,
    /// `c_p`: unit cost in index units.
    pub cost: f64,
    /// The corporate owner's id: providers with one owner price jointly.
    pub owner: usize,
    /// `B_p`: workload units on the provider now.
    pub installed: f64,
    /// An aggregate of many small firms (`providers.<id>.fringe`): atomistic, so it prices at
    /// cost. It keeps its index, its implied cost is its index, and it stays in the market as
    /// a rival.
    pub price_taker: bool,
}

/// The cloud market as a [`bertrand`] market: product p's controlled price is its whole index
/// (no fixed part), segment masses `h · w_s · N`, installed bases `(1 − h) · B_p`.
pub fn cloud_market(sellers: &[CloudSeller], demand: &FeeDemand) -> Market {
    let h = demand.horizon_share.clamp(0.0, 1.0);
    let total_weight: f64 = demand.segments.iter().map(|(w, _)| w).sum();
    let products = sellers
        .iter()
        .map(|s| Product {
            cost: s.cost,
            owner: s.owner,
            installed: (1.0 - h) * s.installed,
            ..Product::new(s.base_utility, 0.0)
        })
        .collect();
    let segments = demand
        .segments
        .iter()
        .filter(|(w, _)| *w > 0.0)
        .map(|(w, bonus)| Segment {
            mass: if total_weight > 0.0 {
                h * demand.total_units * w / total_weight
            } else {
                0.0
            },
            outside_utility: demand.outside_utility,
            bonus: bonus.clone(),
        })
        .collect();
    Market {
        form: PriceForm::Log {
            beta: demand.price_weight,
        },
        products,
        segments,
    }
}

/// The unit costs at which every owner's first-order conditions hold at the sellers' current
/// indices (their `cost` fields are ignored). Each owner's FOC residuals are affine in its
/// products' costs (the shares depend on prices only), so one evaluation at cost 0 and one per
/// product at cost 1 give the system `A c = −F(0)`, solved by LU. Where that has no solution in
/// `[P/r, P)` for every product of the owner (`r = ceiling_ratio`), the owner's demand is too
/// inelastic for an interior optimum at these indices (for one product, `β_c (1 − s) ≤ 1`), its
/// profit rises up to the best-response ceiling `r · c`, and the indices are an equilibrium at
/// that corner: `c = P/r` for each of its products. A price taker's cost is its index.
pub fn implied_costs(sellers: &[CloudSeller], demand: &FeeDemand, ceiling_ratio: f64) -> Vec<f64> {
    let zero: Vec<CloudSeller> = sellers.iter().map(|s| CloudSeller { cost: 0.0, ..*s }).collect();
    let mut market = cloud_market(&zero, demand);
    let prices: Vec<f64> = sellers.iter().map(|s| s.index).collect();
    let mut costs: Vec<f64> = sellers.iter().map(|s| s.index).collect();
    let strategic = |owner: usize| sellers.iter().any(|s| s.owner == owner && !s.price_taker);
    for owner in market.owners().into_iter().filter(|&o| strategic(o)) {
        let base = bertrand::foc(&market, &prices, owner);
        let n = base.len();
        let mut a = nalgebra::DMatrix::<f64>::zeros(n, n);
        for (col, &(k, _)) in base.iter().enumerate() {
            market.products[k].cost = 1.0;
            for (row, (&(_, f1), &(_, f0))) in bertrand::foc(&market, &prices, owner).iter().zip(&base).enumerate() {
                a[(row, col)] = f1 - f0;
            }
            market.products[k].cost = 0.0;
        }
        let rhs = nalgebra::DVector::from_iterator(n, base.iter().map(|&(_, f)| -f));
        let solved = a.lu().solve(&rhs);
        let interior = solved.as_ref().filter(|x| {
            base.iter()
                .enumerate()
                .all(|(i, &(k, _))| x[i].is_finite() && x[i] >= prices[k] / ceiling_ratio && x[i] < prices[k])
        });
        for (i, &(k, _)) in base.iter().enumerate() {
            costs[k] = interior.map_or(prices[k] / ceiling_ratio, |x| x[i]);
        }
    }
    costs
}

/// Next month's indices: every owner's best response to the current indices (Jacobi), each
/// index moving `damping` of the way to it, within `(0, ceiling_ratio · c_p]`.
pub fn next_indices(sellers: &[CloudSeller], demand: &FeeDemand, damping: f64, ceiling_ratio: f64) -> Vec<f64> {
    let market = cloud_market(sellers, demand);
    let prices: Vec<f64> = sellers.iter().map(|s| s.index).collect();
    let requests: Vec<(usize, Solver)> = market
        .owners()
        .into_iter()
        .filter(|&owner| sellers.iter().any(|s| s.owner == owner && !s.price_taker))
        .map(|owner| {
            let f_max = sellers
                .iter()
                .filter(|s| s.owner == owner)
                .map(|s| ceiling_ratio * s.cost)
                .fold(0.0, f64::max);
            let solver = Solver {
                f_max,
                tol: 1e-9,
                warm_start: true,
                newton: false,
                ..Solver::default()
            };
            (owner, solver)
        })
        .collect();
    let mut next = prices.clone();
    for ((owner, _), br) in requests
        .iter()
        .zip(bertrand::best_responses(&market, &prices, &requests))
    {
        for (j, s) in sellers.iter().enumerate().filter(|(_, s)| s.owner == *owner) {
            // A price stays above its cost's tiny fraction: the log-price logit needs P > 0.
            let target = br.fees[j].max(1e-6 * s.cost);
            next[j] = bertrand::damped_step(prices[j], target, damping);
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(horizon_share: f64) -> FeeDemand {
        FeeDemand {
            price_weight: 2.0,
            outside_utility: 0.5,
            segments: vec![(1.0, vec![])],
            total_units: 1000.0,
            horizon_share,
        }
    }

    fn seller(base_utility: f64, index: f64, owner: usize) -> CloudSeller {
        CloudSeller {
            base_utility,
            index,
            cost: 0.0,
            owner,
            installed: 100.0,
            price_taker: false,
        }
    }

    /// Closed-form logit shares of one segment without bonuses, computed here.
    fn logit(sellers: &[CloudSeller], beta: f64, outside: f64) -> Vec<f64> {
        let e: Vec<f64> = sellers
            .iter()
            .map(|s| (s.base_utility - beta * s.index.ln()).exp())
            .collect();
        let total = outside.exp() + e.iter().sum::<f64>();
        e.iter().map(|x| x / total).collect()
    }

    fn costs_of(sellers: &[CloudSeller], d: &FeeDemand) -> Vec<f64> {
        let costs = implied_costs(sellers, d, 50.0);
        for (s, c) in sellers.iter().zip(&costs) {
            assert!(*c > s.index / 50.0 && *c < s.index, "interior: {c} at {}", s.index);
        }
        costs
    }

    fn with_costs(sellers: &[CloudSeller], costs: &[f64]) -> Vec<CloudSeller> {
        sellers
            .iter()
            .zip(costs)
            .map(|(s, &c)| CloudSeller { cost: c, ..*s })
            .collect()
    }

    fn equilibrium(sellers: &[CloudSeller], d: &FeeDemand) -> Vec<f64> {
        let mut s = sellers.to_vec();
        for _ in 0..2000 {
            let next = next_indices(&s, d, 0.5, 50.0);
            for (x, p) in s.iter_mut().zip(next) {
                x.index = p;
            }
        }
        s.iter().map(|x| x.index).collect()
    }

    /// The single-product equilibrium solved here from the closed form: each price iterated to
    /// `c/(1 − 1/(β (1 − s)))` at the current shares, with damping.
    fn textbook(sellers: &[CloudSeller], beta: f64, outside: f64) -> Vec<f64> {
        let mut s = sellers.to_vec();
        for _ in 0..20_000 {
            let shares = logit(&s, beta, outside);
            for (x, sk) in s.iter_mut().zip(shares) {
                let target = x.cost / (1.0 - 1.0 / (beta * (1.0 - sk)));
                x.index += 0.2 * (target - x.index);
            }
        }
        s.iter().map(|x| x.index).collect()
    }

    #[test]
    fn implied_costs_are_the_single_product_closed_form() {
        // c = P (1 − 1/(β (1 − s))) for each of three single-product owners.
        let sellers = vec![seller(1.0, 1.0, 0), seller(0.6, 0.95, 1), seller(0.2, 0.8, 2)];
        let d = demand(1.0);
        let costs = costs_of(&sellers, &d);
        let s = logit(&sellers, 2.0, 0.5);
        for (k, x) in sellers.iter().enumerate() {
            let expected = x.index * (1.0 - 1.0 / (2.0 * (1.0 - s[k])));
            assert!((costs[k] - expected).abs() < 1e-9, "{k}: {} vs {expected}", costs[k]);
        }
        // At those costs the indices are a best response: a month's step leaves them.
        let next = next_indices(&with_costs(&sellers, &costs), &d, 1.0, 50.0);
        for (k, x) in sellers.iter().enumerate() {
            assert!((next[k] - x.index).abs() < 1e-7, "{k}: {} vs {}", next[k], x.index);
        }
    }

    #[test]
    fn a_joint_owner_is_inverted_with_its_recapture() {
        // Sellers 0 and 1 under one owner: the inversion solves their joint FOCs, so the
        // implied costs are lower than the single-product formula (the joint margin is larger);
        // and at them the joint best response leaves the indices where they are.
        let sellers = vec![seller(0.0, 1.0, 0), seller(-0.4, 0.95, 0), seller(-0.8, 0.8, 2)];
        let d = FeeDemand {
            outside_utility: 1.0,
            ..demand(1.0)
        };
        let costs = costs_of(&sellers, &d);
        let s = logit(&sellers, 2.0, 1.0);
        for k in 0..2 {
            assert!(costs[k] < sellers[k].index * (1.0 - 1.0 / (2.0 * (1.0 - s[k]))) - 1e-3);
        }
        let next = next_indices(&with_costs(&sellers, &costs), &d, 1.0, 50.0);
        for (k, x) in sellers.iter().enumerate() {
            assert!((next[k] - x.index).abs() < 1e-7, "{k}: {} vs {}", next[k], x.index);
        }
    }

    #[test]
    fn an_inelastic_seller_is_placed_at_its_ceiling() {
        // One provider with most of the market: β_c (1 − s) < 1, so no interior cost exists and
        // its index is read as the corner of the best response, c = P/r; at that cost the best
        // response is the index itself (profit rises up to the ceiling r · c = P).
        let sellers = vec![seller(4.0, 1.0, 0), seller(-2.0, 1.0, 1)];
        let d = demand(1.0);
        let s = logit(&sellers, 2.0, 0.5);
        assert!(2.0 * (1.0 - s[0]) < 1.0, "inelastic: share {}", s[0]);
        let costs = implied_costs(&sellers, &d, 10.0);
        assert_eq!(costs[0], 0.1);
        assert!((costs[1] - (1.0 - 1.0 / (2.0 * (1.0 - s[1])))).abs() < 1e-9);
        let next = next_indices(&with_costs(&sellers, &costs), &d, 1.0, 10.0);
        assert!((next[0] - 1.0).abs() < 1e-9 && (next[1] - 1.0).abs() < 1e-7, "{next:?}");
        // The corner moves with the ceiling.
        assert_eq!(implied_costs(&sellers, &d, 20.0)[0], 0.05);
    }

    #[test]
    fn cost_cuts_pass_through_and_mergers_raise_prices() {
        let d = demand(1.0);
        let sellers = vec![seller(1.0, 1.0, 0), seller(0.6, 0.95, 1), seller(0.2, 0.8, 2)];
        let costs = costs_of(&sellers, &d);
        let base = with_costs(&sellers, &costs);
        let start = equilibrium(&base, &d);
        // A 10 % cost cut for seller 0 lowers its price. In the log-price logit the Lerner index
        // is 1/(β (1 − s)), so P = c/(1 − L): with a fixed share the elasticity d ln P / d ln c
        // would be 1, and the share the cut wins raises L, so it lies in (0, 1).
        let mut cut = base.clone();
        cut[0].cost *= 0.9;
        let after = equilibrium(&cut, &d);
        for (solved, costs) in [(&start, &base), (&after, &cut)] {
            let expected = textbook(costs, 2.0, 0.5);
            for k in 0..3 {
                assert!(
                    (solved[k] - expected[k]).abs() < 1e-6,
                    "{k}: {} vs {}",
                    solved[k],
                    expected[k]
                );
            }
        }
        let pass = (after[0] / start[0]).ln() / 0.9f64.ln();
        assert!(pass > 0.05 && pass < 0.95, "pass-through {pass}");
        // Giving sellers 0 and 1 one owner raises both their prices.
        let mut merged = base.clone();
        merged[1].owner = 0;
        let m = equilibrium(&merged, &d);
        assert!(m[0] > start[0] + 1e-3 && m[1] > start[1] + 1e-3, "{m:?} vs {start:?}");
    }

    #[test]
    fn a_price_taking_fringe_keeps_its_index_and_prices_at_cost() {
        let mut sellers = vec![seller(1.0, 1.0, 0), seller(0.6, 0.95, 1), seller(0.8, 0.9, 2)];
        sellers[2].price_taker = true;
        let d = demand(1.0);
        let costs = implied_costs(&sellers, &d, 50.0);
        assert_eq!(costs[2], 0.9);
        // The strategic sellers' inversion is the closed form, with the fringe as a rival.
        let s = logit(&sellers, 2.0, 0.5);
        assert!((costs[0] - (1.0 - 1.0 / (2.0 * (1.0 - s[0])))).abs() < 1e-9);
        let mut cut = with_costs(&sellers, &costs);
        cut[0].cost *= 0.8;
        let next = next_indices(&cut, &d, 1.0, 50.0);
        assert_eq!(next[2], 0.9);
        // One Jacobi step: only the seller whose cost fell moves.
        assert!(next[0] < 1.0 - 0.05 && (next[1] - 0.95).abs() < 1e-7, "{next:?}");
    }

    #[test]
    fn myopic_providers_harvest_their_installed_base() {
        let sellers = vec![seller(1.0, 1.0, 0), seller(0.6, 0.95, 1)];
        let costs = costs_of(&sellers, &demand(1.0));
        let base = with_costs(&sellers, &costs);
        let forward = next_indices(&base, &demand(1.0), 1.0, 50.0);
        let myopic = next_indices(&base, &demand(0.1), 1.0, 50.0);
        for k in 0..2 {
            assert!(myopic[k] > forward[k] + 0.05, "{k}: {} vs {}", myopic[k], forward[k]);
        }
    }
}
