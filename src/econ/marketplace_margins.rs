//! Marketplace margins as prices the providers set: one month's damped best response of every
//! provider owner to the enterprise AI choice (docs/MODEL.md 7.15, "Marketplace margins").
//!
//! A provider `p` sells each model on its marketplace at `P_k = w_p (1 + m_p) + f_k`: its compute
//! price `w_p` (the compute game's, 7.13), its margin `m_p` on every slot of its marketplace, and
//! the lab's fee `f_k` (the fee game's). It receives `w_p (1 + m_p)` a unit and serves it at unit
//! cost `c_p`. Its owner `o` earns, per unit on option `k`,
//! `e_k = [k on a marketplace of o] (w(1 + m) − c) + [o sets k's fee] f_k`,
//! so a provider that owns a lab counts that lab's fees on every channel (and a lab's owner, the
//! margin on its own marketplace: the vertical merger removes one of the two markups).
//!
//! Demand is the fee game's ([`FeeDemand`]): per suite segment `g` a mass `M_g = h w_g N / Σ w`
//! choosing by the logit `u_gk = a_k + b_gk − β ln P_k` with the outside option, plus the installed
//! base `(1 − h) B_k` that pays without choosing (`h = 1` for a forward-looking seller, who prices
//! against the whole stock). With `dP_k/dm_p = w_p` on `p`'s slots `K_p` and
//! `∂s_gj/∂P_k = −(β/P_k) s_gk (δ_jk − s_gj)`, the first-order condition of `o` in `m_p` is
//!
//! `F_p(m) = Σ_{k∈K_p} Q_k − β Σ_g M_g Σ_{k∈K_p} (s_gk/P_k)(e_k − Ē_g) = 0`, `Ē_g = Σ_j e_j s_gj`,
//!
//! with `Q_k = (1 − h) B_k + Σ_g M_g s_gk`. For one slot and one segment it is
//! `w(1 + m) − c = P/(β(1 − s))`: a second markup on the price the lab's fee already marks up
//! (successive monopoly on complements). Because `e_k` already holds the compute margin `w − c`,
//! the margin only adds what the compute price leaves, and it is often at its floor 0 (a
//! marketplace does not sell below the compute it runs on). Where demand is too inelastic for any
//! interior markup it stops at its ceiling `m ≤ r c_p / w_p − 1` (`pricing.max_price_ratio` r, as
//! for every best response).

use super::bertrand::{Binding, damped_step, find_crossing};
use super::model_fees::{FeeDemand, FeeOption};

/// One provider, as the margin game sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarginSeller {
    /// Corporate owner's id (in the fee game's owner ids, so that an owner of labs and clouds is one).
    pub owner: usize,
    /// `w_p`: compute price, US$ per GPU-hour (> 0).
    pub compute_price: f64,
    /// `c_p`: unit cost of serving a GPU-hour, US$.
    pub unit_cost: f64,
    /// `m_p`: this month's margin.
    pub margin: f64,
    /// An atomistic fringe (or an inactive provider): keeps its margin.
    pub price_taker: bool,
}

/// The enterprise AI choice the margins are set against: the options with their fees and hosts,
/// the demand side, and each segment's choosing mass.
struct MarginMarket<'a> {
    options: &'a [FeeOption],
    hosts: &'a [Option<usize>],
    demand: &'a FeeDemand,
    /// `M_g` per segment.
    mass: Vec<f64>,
}

impl MarginMarket<'_> {
    fn price(&self, k: usize, margins: &[f64], sellers: &[MarginSeller]) -> f64 {
        let o = &self.options[k];
        match self.hosts[k] {
            Some(p) => sellers[p].compute_price * (1.0 + margins[p]) + o.fee,
            None => o.fixed + o.fee,
        }
    }

    fn utility(&self, g: usize, k: usize, price: f64) -> f64 {
        let bonus = self.demand.segments[g].1.get(k).copied().unwrap_or(0.0);
        self.options[k].base_utility + bonus - self.demand.price_weight * price.ln()
    }

    /// Owner `o`'s earnings per unit on option `k`.
    fn earning(&self, k: usize, o: usize, margins: &[f64], sellers: &[MarginSeller]) -> f64 {
        let opt = &self.options[k];
        let host = match self.hosts[k] {
            Some(p) if sellers[p].owner == o => sellers[p].compute_price * (1.0 + margins[p]) - sellers[p].unit_cost,
            _ => 0.0,
        };
        host + if opt.owner == Some(o) { opt.fee } else { 0.0 }
    }
}

/// Seller `p`'s first-order condition `F_p(m)` with every other margin held at `margins`: the
/// options off `p`'s marketplace do not move with `m`, so their weights and their earnings for
/// `p`'s owner are summed once per segment, and an evaluation costs O(|K_p| × segments).
struct SellerFoc {
    /// `p`'s slots: (installed base, fee, the owner's fee earning on it, `a_k + b_gk − top_g` per segment).
    own: Vec<(f64, f64, f64, Vec<f64>)>,
    /// Per segment: the outside option's and the other options' total weight, and the owner's
    /// earnings on them weighted by their weights (both on the scale `exp(−top_g)`).
    rest: Vec<(f64, f64)>,
    mass: Vec<f64>,
    compute_price: f64,
    unit_cost: f64,
    beta: f64,
    horizon_share: f64,
}

impl SellerFoc {
    fn new(mm: &MarginMarket, sellers: &[MarginSeller], margins: &[f64], p: usize) -> SellerFoc {
        let o = sellers[p].owner;
        let n = mm.options.len();
        let beta = mm.demand.price_weight;
        let on_p = |k: usize| mm.hosts[k] == Some(p);
        let price: Vec<f64> = (0..n).map(|k| mm.price(k, margins, sellers)).collect();
        // The highest utility an option reaches for m ≥ 0: p's own at m = 0.
        let mut at_zero = margins.to_vec();
        at_zero[p] = 0.0;
        let mut own: Vec<(f64, f64, f64, Vec<f64>)> = (0..n)
            .filter(|&k| on_p(k))
            .map(|k| {
                let opt = &mm.options[k];
                let fee_earning = if opt.owner == Some(o) { opt.fee } else { 0.0 };
                (opt.installed, opt.fee, fee_earning, Vec::with_capacity(mm.mass.len()))
            })
            .collect();
        let mut rest = Vec::with_capacity(mm.mass.len());
        for g in 0..mm.mass.len() {
            let others: Vec<(f64, f64)> = (0..n)
                .filter(|&k| !on_p(k))
                .map(|k| (mm.utility(g, k, price[k]), mm.earning(k, o, margins, sellers)))
                .collect();
            let own_top = (0..n)
                .filter(|&k| on_p(k))
                .map(|k| mm.utility(g, k, mm.price(k, &at_zero, sellers)))
                .fold(f64::NEG_INFINITY, f64::max);
            let top = others
                .iter()
                .map(|(u, _)| *u)
                .fold(mm.demand.outside_utility.max(own_top), f64::max);
            let (z, ae) = others
                .iter()
                .fold(((mm.demand.outside_utility - top).exp(), 0.0), |(z, ae), (u, e)| {
                    let w = (u - top).exp();
                    (z + w, ae + e * w)
                });
            rest.push((z, ae));
            for (slot, k) in own.iter_mut().zip((0..n).filter(|&k| on_p(k))) {
                let bonus = mm.demand.segments[g].1.get(k).copied().unwrap_or(0.0);
                slot.3.push(mm.options[k].base_utility + bonus - top);
            }
        }
        SellerFoc {
            own,
            rest,
            mass: mm.mass.clone(),
            compute_price: sellers[p].compute_price,
            unit_cost: sellers[p].unit_cost,
            beta,
            horizon_share: mm.demand.horizon_share.clamp(0.0, 1.0),
        }
    }

    /// `F_p(m) = Σ_{k∈K_p} Q_k − β Σ_g M_g Σ_{k∈K_p} (s_gk/P_k)(e_k − Ē_g)`.
    fn at(&self, m: f64) -> f64 {
        let host = self.compute_price * (1.0 + m);
        let priced: Vec<(f64, f64)> = self
            .own
            .iter()
            .map(|(_, fee, fee_earning, _)| (host + fee, host - self.unit_cost + fee_earning))
            .collect();
        let log_price: Vec<f64> = priced.iter().map(|(p, _)| p.ln()).collect();
        let mut units: f64 = self.own.iter().map(|o| (1.0 - self.horizon_share) * o.0).sum();
        let mut response = 0.0;
        let mut w = vec![0.0; self.own.len()];
        for (g, (&mass, &(rest_z, rest_e))) in self.mass.iter().zip(&self.rest).enumerate() {
            let (mut z, mut ae) = (rest_z, rest_e);
            for (i, o) in self.own.iter().enumerate() {
                w[i] = (o.3[g] - self.beta * log_price[i]).exp();
                z += w[i];
                ae += priced[i].1 * w[i];
            }
            let ebar = ae / z;
            for (i, &(price, earning)) in priced.iter().enumerate() {
                let s = w[i] / z;
                units += mass * s;
                response += mass * (s / price) * (earning - ebar);
            }
        }
        units - self.beta * response
    }
}

/// Every non-fringe owner's best-response margins to `margins` (Jacobi across owners;
/// Gauss–Seidel over an owner's own providers until no margin moves by more than 1e-9), each
/// margin within `[0, r c_p / w_p − 1]`. `hosts[k]` is the provider of marketplace option `k`
/// (`None`: a direct API, priced `fixed_k + f_k`).
pub fn best_margins(
    options: &[FeeOption],
    hosts: &[Option<usize>],
    sellers: &[MarginSeller],
    demand: &FeeDemand,
    ceiling_ratio: f64,
) -> Vec<f64> {
    let total_weight: f64 = demand.segments.iter().map(|(w, _)| w).sum();
    let h = demand.horizon_share.clamp(0.0, 1.0);
    let mm = MarginMarket {
        options,
        hosts,
        demand,
        mass: demand
            .segments
            .iter()
            .map(|(w, _)| {
                if total_weight > 0.0 {
                    h * demand.total_units * w / total_weight
                } else {
                    0.0
                }
            })
            .collect(),
    };
    let current: Vec<f64> = sellers.iter().map(|s| s.margin).collect();
    let mut best = current.clone();
    let mut owners: Vec<usize> = sellers.iter().filter(|s| !s.price_taker).map(|s| s.owner).collect();
    owners.sort_unstable();
    owners.dedup();
    for o in owners {
        let own: Vec<usize> = (0..sellers.len())
            .filter(|&p| sellers[p].owner == o && !sellers[p].price_taker && hosts.contains(&Some(p)))
            .collect();
        let mut at = current.clone();
        for _ in 0..50 {
            let mut moved = 0.0f64;
            for &p in &own {
                let s = &sellers[p];
                let ceiling = (ceiling_ratio * s.unit_cost / s.compute_price - 1.0).max(0.0);
                let foc = SellerFoc::new(&mm, sellers, &at, p);
                let phi = |m: f64| foc.at(m);
                let start = at[p].clamp(0.0, ceiling);
                let (m, _binding): (f64, Binding) = find_crossing(phi, start, 0.0, ceiling, 1e-3);
                moved = moved.max((m - at[p]).abs());
                at[p] = m;
            }
            if own.len() <= 1 || moved < 1e-9 {
                break;
            }
        }
        for &p in &own {
            best[p] = at[p];
        }
    }
    best
}

/// Next month's margins: a damped step from each seller's margin towards [`best_margins`].
pub fn next_margins(
    options: &[FeeOption],
    hosts: &[Option<usize>],
    sellers: &[MarginSeller],
    demand: &FeeDemand,
    damping: f64,
    ceiling_ratio: f64,
) -> Vec<f64> {
    best_margins(options, hosts, sellers, demand, ceiling_ratio)
        .into_iter()
        .zip(sellers)
        .map(|(best, s)| damped_step(s.margin, best, damping))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BETA: f64 = 3.0;

    fn demand(horizon_share: f64) -> FeeDemand {
        FeeDemand {
            price_weight: BETA,
            outside_utility: 0.0,
            segments: vec![(1.0, vec![])],
            total_units: 100.0,
            horizon_share,
        }
    }

    fn option(base_utility: f64, fee: f64, owner: Option<usize>, installed: f64) -> FeeOption {
        FeeOption {
            base_utility,
            fixed: 0.0,
            fee,
            owner,
            installed,
        }
    }

    fn seller(owner: usize, margin: f64) -> MarginSeller {
        MarginSeller {
            owner,
            compute_price: 2.0,
            unit_cost: 1.5,
            margin,
            price_taker: false,
        }
    }

    /// The logit share of one option of base utility `a` at price `p` against the outside option.
    fn share(a: f64, p: f64) -> f64 {
        let u = a - BETA * p.ln();
        u.exp() / (1.0 + u.exp())
    }

    /// The root in `m` of `g` (positive below it: marginal profit > 0), by bisection on `[0, 50]`.
    fn root(g: impl Fn(f64) -> f64) -> f64 {
        root_in(0.0, 50.0, g)
    }

    /// The root of `g` in `[lo, hi]` (positive below it), by bisection.
    fn root_in(mut lo: f64, mut hi: f64, g: impl Fn(f64) -> f64) -> f64 {
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if g(mid) > 0.0 { lo = mid } else { hi = mid }
        }
        0.5 * (lo + hi)
    }

    #[test]
    fn a_single_marketplace_margin_solves_the_logit_markup_condition() {
        // One model on one marketplace, the lab independent (owner 9): the provider's margin
        // solves w(1 + m) − c = P/(β(1 − s)) with P = w(1 + m) + f.
        let (a, f) = (2.0, 0.5);
        let s0 = seller(0, 0.3);
        let expected = root(|m| {
            let p = s0.compute_price * (1.0 + m) + f;
            p - (s0.compute_price * (1.0 + m) - s0.unit_cost) * BETA * (1.0 - share(a, p))
        });
        let options = [option(a, f, Some(9), 40.0)];
        let got = best_margins(&options, &[Some(0)], &[s0], &demand(1.0), 100.0);
        assert!((got[0] - expected).abs() < 1e-8, "{} vs {expected}", got[0]);
        // A damped step moves half of the way there.
        let half = next_margins(&options, &[Some(0)], &[s0], &demand(1.0), 0.5, 100.0);
        assert!((half[0] - 0.5 * (0.3 + expected)).abs() < 1e-8);
        // A broken condition (the fee counted as the provider's) gives another margin.
        let wrong = root(|m| {
            let p = s0.compute_price * (1.0 + m) + f;
            p - (s0.compute_price * (1.0 + m) - s0.unit_cost + f) * BETA * (1.0 - share(a, p))
        });
        assert!((got[0] - wrong).abs() > 1e-3);
    }

    #[test]
    fn margins_and_fees_alternated_reach_the_successive_monopoly_equilibrium() {
        // The first month's joint equilibrium, as start-up computes it: best-response margins and
        // the fee equilibrium alternated. With one slot, one segment and an independent lab, both
        // markups solve the logit condition on the same price: f = P/(β(1 − s)) and
        // w(1 + m) − c = P/(β(1 − s)), so P = c + 2f and P (1 − 2/(β(1 − s))) = c, an interior
        // equilibrium because β(1 − s) > 2 here. The test solves that closed form by bisection.
        use crate::econ::model_fees::equilibrium_fees;
        let a = 2.0;
        let s0 = seller(0, 0.3);
        let c = s0.unit_cost;
        // Below the equilibrium price the markup condition leaves the price short of c + 2f.
        let closed = root_in(c, 100.0, |p| c - p * (1.0 - 2.0 / (BETA * (1.0 - share(a, p)))));
        let fee_star = closed / (BETA * (1.0 - share(a, closed)));
        let margin_star = (closed - fee_star) / s0.compute_price - 1.0;
        let mut option = option(a, 0.5, Some(9), 40.0);
        let mut seller = s0;
        for _ in 0..500 {
            option.fixed = seller.compute_price * (1.0 + seller.margin);
            option.fee = equilibrium_fees(&[option], &demand(1.0), 100.0)[0];
            seller.margin = best_margins(&[option], &[Some(0)], &[seller], &demand(1.0), 100.0)[0];
        }
        assert!((option.fee - fee_star).abs() < 1e-6, "fee {} vs {fee_star}", option.fee);
        assert!(
            (seller.margin - margin_star).abs() < 1e-6,
            "margin {} vs {margin_star}",
            seller.margin
        );
        // Double marginalisation: the price is above the one an integrated owner sets,
        // P (1 − 1/(β(1 − s))) = c.
        let integrated = root_in(c, 100.0, |p| c - p * (1.0 - 1.0 / (BETA * (1.0 - share(a, p)))));
        assert!(closed > integrated + 0.1, "{closed} vs integrated {integrated}");
    }

    #[test]
    fn owning_the_lab_removes_one_markup() {
        // Spengler: the owner of the cloud and the lab sets one markup on the whole price,
        // w(1 + m) − c + f = P/(β(1 − s)); its margin is below the independent provider's.
        let (a, f) = (2.0, 0.5);
        let s0 = seller(0, 0.3);
        let integrated = root(|m| {
            let p = s0.compute_price * (1.0 + m) + f;
            p - (p - s0.unit_cost) * BETA * (1.0 - share(a, p))
        });
        let own = best_margins(&[option(a, f, Some(0), 40.0)], &[Some(0)], &[s0], &demand(1.0), 100.0);
        let independent = best_margins(&[option(a, f, Some(9), 40.0)], &[Some(0)], &[s0], &demand(1.0), 100.0);
        assert!((own[0] - integrated).abs() < 1e-8, "{} vs {integrated}", own[0]);
        assert!(own[0] < independent[0]);
    }

    #[test]
    fn a_rival_marketplace_and_diversion_enter_the_condition() {
        // Two marketplaces carrying the same model; one owner of both recaptures diversion and
        // prices both above what two rival owners would.
        let options = [option(2.0, 0.5, Some(9), 40.0), option(2.0, 0.5, Some(9), 40.0)];
        let hosts = [Some(0), Some(1)];
        let rivals = best_margins(&options, &hosts, &[seller(0, 0.3), seller(1, 0.3)], &demand(1.0), 100.0);
        let joint = best_margins(&options, &hosts, &[seller(0, 0.3), seller(0, 0.3)], &demand(1.0), 100.0);
        assert!(
            joint[0] > rivals[0] + 1e-3 && joint[1] > rivals[1] + 1e-3,
            "{joint:?} vs {rivals:?}"
        );
        // The rivals' margins are a Nash equilibrium only at the fixed point: symmetric here.
        assert!((rivals[0] - rivals[1]).abs() < 1e-9);
    }

    #[test]
    fn a_myopic_provider_harvests_its_base_and_a_fringe_keeps_its_margin() {
        let options = [option(2.0, 0.5, Some(9), 40.0), option(1.0, 0.5, Some(9), 40.0)];
        let hosts = [Some(0), Some(1)];
        let mut fringe = seller(1, 0.2);
        fringe.price_taker = true;
        let sellers = [seller(0, 0.3), fringe];
        let forward = best_margins(&options, &hosts, &sellers, &demand(1.0), 100.0);
        let myopic = best_margins(&options, &hosts, &sellers, &demand(0.2), 100.0);
        assert!(myopic[0] > forward[0] + 1e-3, "{myopic:?} vs {forward:?}");
        assert_eq!(forward[1], 0.2);
        assert_eq!(myopic[1], 0.2);
    }

    #[test]
    fn inelastic_demand_puts_the_margin_at_its_ceiling() {
        // β(1 − s) ≤ 1 for any margin: no interior markup, the margin stops at r c / w − 1.
        let mut d = demand(1.0);
        d.price_weight = 0.5;
        let s0 = seller(0, 0.3);
        let got = best_margins(&[option(2.0, 0.5, Some(9), 40.0)], &[Some(0)], &[s0], &d, 4.0);
        assert!((got[0] - (4.0 * 1.5 / 2.0 - 1.0)).abs() < 1e-12, "{got:?}");
    }
}
