//! How a lab spreads its rented compute across providers.
//!
//! Each month a lab computes a logit target over the providers it can use,
//!
//! ```text
//! u_p = −host_price_weight · ln(effective price_p) + free_capacity_weight · ln(max(free_p, 0.02))
//!       − dependency_aversion · x_p
//! ```
//!
//! where the effective price is lowered by unspent compute credits on p and `x_p` is the lab's
//! current share on p (labs dislike having most compute on one provider). It moves a fraction
//! `allocation_speed` of the way to the target (multi-year contracts adjust slowly), then lifts
//! contractual floors (exclusivity, take-or-pay commitments).

/// What a lab sees of one potential host.
#[derive(Debug, Clone, Copy)]
pub struct HostView {
    /// Whether the lab can use this host now.
    pub available: bool,
    /// Price per GPU-hour after credit discounts (> 0).
    pub effective_price: f64,
    /// Fraction of the host's capacity that was free last month.
    pub free_fraction: f64,
    /// The lab's current share on this host.
    pub current_share: f64,
}

/// Coefficients of the allocation logit.
#[derive(Debug, Clone, Copy)]
pub struct AllocationWeights {
    /// Utility per unit of log effective price.
    pub price_weight: f64,
    /// Utility per unit of log free-capacity fraction.
    pub free_capacity_weight: f64,
    /// Utility cost per unit of current share.
    pub dependency_aversion: f64,
}

/// Logit target shares over hosts; unavailable hosts get 0. All-unavailable gives all zeros.
pub fn target_shares(hosts: &[HostView], w: &AllocationWeights) -> Vec<f64> {
    let utils: Vec<Option<f64>> = hosts
        .iter()
        .map(|h| {
            h.available.then(|| {
                -w.price_weight * h.effective_price.max(1e-9).ln()
                    + w.free_capacity_weight * h.free_fraction.max(0.02).ln()
                    - w.dependency_aversion * h.current_share
            })
        })
        .collect();
    let max = utils.iter().flatten().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let weights: Vec<f64> = utils.iter().map(|u| u.map_or(0.0, |u| (u - max).exp())).collect();
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        weights.iter().map(|x| x / total).collect()
    } else {
        vec![0.0; hosts.len()]
    }
}

/// Partial adjustment toward the target; a lab without history adopts the target.
/// Shares on hosts that became unavailable are dropped and the rest renormalised.
pub fn adjust(previous: &[f64], target: &[f64], speed: f64, available: &[bool]) -> Vec<f64> {
    let prev_total: f64 = previous
        .iter()
        .zip(available)
        .filter(|(_, a)| **a)
        .map(|(p, _)| p)
        .sum();
    if prev_total <= 0.0 {
        return target.to_vec();
    }
    let mixed: Vec<f64> = previous
        .iter()
        .zip(target)
        .zip(available)
        .map(|((p, t), a)| {
            if *a {
                (1.0 - speed) * p / prev_total + speed * t
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = mixed.iter().sum();
    mixed.iter().map(|x| x / total).collect()
}

/// Lifts shares to their floors and scales the others down proportionally; floors summing to
/// more than one are scaled to sum to one.
pub fn apply_floors(shares: &[f64], floors: &[f64]) -> Vec<f64> {
    let floor_total: f64 = floors.iter().sum();
    if floor_total >= 1.0 {
        return floors.iter().map(|f| f / floor_total).collect();
    }
    let n = shares.len();
    let mut pinned = vec![false; n];
    loop {
        let pinned_mass: f64 = (0..n).filter(|&i| pinned[i]).map(|i| floors[i]).sum();
        let free_total: f64 = (0..n).filter(|&i| !pinned[i]).map(|i| shares[i]).sum();
        let room = 1.0 - pinned_mass;
        let scaled: Vec<f64> = (0..n)
            .map(|i| {
                if pinned[i] {
                    floors[i]
                } else if free_total > 0.0 {
                    shares[i] * room / free_total
                } else {
                    0.0
                }
            })
            .collect();
        let newly: Vec<usize> = (0..n).filter(|&i| !pinned[i] && scaled[i] < floors[i]).collect();
        if newly.is_empty() {
            if free_total <= 0.0 && room > 0.0 {
                // Nothing unpinned to absorb the room: give it to the floored hosts.
                return floors.iter().map(|f| f / floor_total).collect();
            }
            return scaled;
        }
        for i in newly {
            pinned[i] = true;
        }
    }
}

/// Share of compute moved between hosts: half the L1 distance of the two allocations.
pub fn moved_share(previous: &[f64], next: &[f64]) -> f64 {
    0.5 * previous.iter().zip(next).map(|(a, b)| (a - b).abs()).sum::<f64>()
}

/// Price discount from unspent credits: credits covering a year of the lab's whole rented
/// compute at this host's price make it 90 % cheaper at the margin; fewer credits, less.
pub fn credit_discount(credits_musd: f64, annual_cost_musd: f64) -> f64 {
    if annual_cost_musd <= 0.0 {
        return if credits_musd > 0.0 { 0.9 } else { 0.0 };
    }
    (0.9 * credits_musd / annual_cost_musd).clamp(0.0, 0.9)
}

/// The lab-level behaviour parameters of the monthly compute plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanBehaviour {
    /// Coefficients of the allocation logit.
    pub weights: AllocationWeights,
    /// Share of the gap to the target closed each month.
    pub allocation_speed: f64,
    /// Share of last month's revenue spent on more training compute.
    pub reinvest_share: f64,
    /// Minimum share of a first-party lab's rented compute on its owner.
    pub owner_min_share: f64,
    /// Training output lost per unit of compute moved between hosts.
    pub move_penalty: f64,
}

/// What a lab's monthly compute plan reads (arrays per provider, in index order).
#[derive(Debug, Clone)]
pub struct PlanInputs<'a> {
    /// Lab index (which contracts are its own).
    pub lab: usize,
    /// Current tick.
    pub tick: u32,
    /// Training budget before reinvested revenue, US$ M.
    pub budget_musd: f64,
    /// Last month's enterprise-derived revenue, US$ M.
    pub revenue_musd: f64,
    /// Own data-centre capacity, kGPU.
    pub own_capacity_kgpu: f64,
    /// Unit cost of own capacity, US$ per GPU-hour.
    pub own_unit_cost: f64,
    /// Direct-API inference demand this month, kGPU.
    pub inference_kgpu: f64,
    /// Current shares of rented compute (all zero before the first allocation).
    pub hosts: &'a [f64],
    /// Configured initial hosting mix (empty: none configured).
    pub initial_hosts: &'a [f64],
    /// Whether each provider operates.
    pub available: &'a [bool],
    /// Compute price per provider.
    pub prices: &'a [f64],
    /// Contract prices of the lab's compute on each provider (empty: this month's prices).
    pub contract_prices: &'a [f64],
    /// Fraction of capacity free last month, per provider.
    pub free_fraction: &'a [f64],
    /// Every contract (the lab's own are filtered by index).
    pub contracts: &'a [super::contracts::Contract],
    /// Regulation in force.
    pub regulation: &'a super::policy::Regulation,
    /// Provider owning the lab, if any.
    pub owner: Option<usize>,
    /// Behaviour parameters.
    pub behaviour: PlanBehaviour,
}

/// A lab's compute plan for the month.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Training compute demanded, kGPU.
    pub training_kgpu: f64,
    /// Shares of rented compute per provider.
    pub hosts: Vec<f64>,
    /// Training productivity after moving compute between hosts.
    pub efficiency: f64,
    /// Average price per GPU-hour of its hosting (own capacity at own cost, rented compute at
    /// its contract prices).
    pub avg_host_price: f64,
    /// Contract price of its compute on each provider after this month, US$/GPU-hour.
    pub contract_prices: Vec<f64>,
}

/// Sizes a lab's training demand and spreads its rented compute (§7.4 of docs/MODEL.md):
/// training `T = own + (budget + ρ · revenue) / (0.73 · p̄)` at the allocation-weighted price
/// `p̄`; rented `R = T + I − own`; a logit target over hosts with credit-discounted prices,
/// partial adjustment (or the configured initial mix), then contractual floors.
pub fn plan_compute(input: &PlanInputs) -> Plan {
    let b = &input.behaviour;
    let n = input.available.len();
    let previous: Vec<f64> = if input.hosts.iter().sum::<f64>() > 0.0 {
        input.hosts.to_vec()
    } else {
        vec![0.0; n]
    };
    // The budget buys compute at the prices the lab pays: its contract prices.
    let contracted: Vec<f64> = if input.contract_prices.len() == n {
        input.contract_prices.to_vec()
    } else {
        input.prices.to_vec()
    };
    let avg_price = weighted_price(&previous, &contracted, input.available);
    let budget = input.budget_musd + b.reinvest_share * input.revenue_musd;
    let bought = budget / (super::pricing::MUSD_PER_KGPU_MONTH_PER_DOLLAR_HOUR * avg_price);
    let training_kgpu = input.own_capacity_kgpu + bought;
    let rented = (training_kgpu + input.inference_kgpu - input.own_capacity_kgpu).max(0.0);

    let views: Vec<HostView> = (0..n)
        .map(|p| {
            let credits: f64 = input
                .contracts
                .iter()
                .filter(|c| c.lab == input.lab && c.provider == p && c.active(input.tick))
                .map(|c| c.credits)
                .sum();
            let annual = 12.0 * super::pricing::spend_musd(rented, input.prices[p]);
            HostView {
                available: input.available[p],
                effective_price: input.prices[p] * (1.0 - credit_discount(credits, annual)),
                free_fraction: input.free_fraction[p],
                current_share: previous[p],
            }
        })
        .collect();
    let target = target_shares(&views, &b.weights);
    let adjusted = if previous.iter().sum::<f64>() <= 0.0 && !input.initial_hosts.is_empty() {
        input.initial_hosts.to_vec()
    } else {
        adjust(&previous, &target, b.allocation_speed, input.available)
    };
    let floors = super::contracts::compute_floors(
        input.contracts,
        input.lab,
        input.tick,
        input.regulation,
        input.available,
        input.prices,
        rented,
        input.owner.map(|o| (o, b.owner_min_share)),
    );
    let next = apply_floors(&adjusted, &floors);
    let moved = if previous.iter().sum::<f64>() > 0.0 {
        moved_share(&previous, &next)
    } else {
        0.0
    };
    let total = training_kgpu + input.inference_kgpu;
    let own_used = input.own_capacity_kgpu.min(total);
    let contract_prices = contract_prices(&previous, &contracted, &next, input.prices, b.allocation_speed);
    let rented_price = weighted_price(&next, &contract_prices, input.available);
    let avg_host_price = if total > 0.0 {
        (own_used * input.own_unit_cost + (total - own_used) * rented_price) / total
    } else {
        rented_price
    };
    Plan {
        training_kgpu,
        hosts: next,
        efficiency: super::quality::training_efficiency(moved, b.move_penalty),
        avg_host_price,
        contract_prices,
    }
}

/// Contract prices after a month of re-contracting. Compute kept on a host keeps its price: at
/// most `(1 − speed)` of last month's share (a fraction `speed` of every contract comes up for
/// renewal). What the new allocation places there beyond that is contracted at this month's price:
///
/// ```text
/// kept_p = min((1 − speed)·x_p, x'_p),   p̄'_p = (kept_p·p̄_p + (x'_p − kept_p)·price_p) / x'_p
/// ```
///
/// (the current price where nothing is placed).
pub fn contract_prices(previous: &[f64], contracted: &[f64], next: &[f64], prices: &[f64], speed: f64) -> Vec<f64> {
    (0..next.len())
        .map(|p| {
            let kept = ((1.0 - speed) * previous.get(p).copied().unwrap_or(0.0)).min(next[p]);
            if next[p] > 0.0 {
                (kept * contracted[p] + (next[p] - kept) * prices[p]) / next[p]
            } else {
                prices[p]
            }
        })
        .collect()
}

/// Allocation-weighted price; without an allocation, the cheapest available price.
pub fn weighted_price(shares: &[f64], prices: &[f64], available: &[bool]) -> f64 {
    let total: f64 = shares.iter().zip(available).filter(|(_, a)| **a).map(|(s, _)| s).sum();
    if total > 0.0 {
        shares
            .iter()
            .zip(prices)
            .zip(available)
            .filter(|(_, a)| **a)
            .map(|((s, p), _)| s * p)
            .sum::<f64>()
            / total
    } else {
        prices
            .iter()
            .zip(available)
            .filter(|(_, a)| **a)
            .map(|(p, _)| *p)
            .fold(f64::INFINITY, f64::min)
            .min(1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(price: f64, free: f64, share: f64) -> HostView {
        HostView {
            available: true,
            effective_price: price,
            free_fraction: free,
            current_share: share,
        }
    }

    const W: AllocationWeights = AllocationWeights {
        price_weight: 2.0,
        free_capacity_weight: 0.5,
        dependency_aversion: 1.0,
    };

    #[test]
    fn cheaper_host_gets_a_larger_target_share() {
        let t = target_shares(&[host(4.0, 0.2, 0.0), host(3.0, 0.2, 0.0)], &W);
        assert!(t[1] > t[0]);
        assert!((t.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn dependency_aversion_pushes_away_from_the_dominant_host() {
        let even = target_shares(&[host(3.0, 0.2, 0.0), host(3.0, 0.2, 0.0)], &W);
        let skewed = target_shares(&[host(3.0, 0.2, 0.9), host(3.0, 0.2, 0.1)], &W);
        assert!((even[0] - 0.5).abs() < 1e-12);
        assert!(skewed[0] < 0.5);
    }

    #[test]
    fn unavailable_hosts_get_nothing() {
        let mut h = [host(3.0, 0.2, 0.5), host(1.0, 0.9, 0.5)];
        h[1].available = false;
        assert_eq!(target_shares(&h, &W), vec![1.0, 0.0]);
        assert_eq!(adjust(&[0.5, 0.5], &[1.0, 0.0], 0.1, &[true, false]), vec![1.0, 0.0]);
    }

    #[test]
    fn adjustment_moves_part_of_the_way() {
        let x = adjust(&[1.0, 0.0], &[0.0, 1.0], 0.25, &[true, true]);
        assert!((x[0] - 0.75).abs() < 1e-12 && (x[1] - 0.25).abs() < 1e-12);
        assert_eq!(adjust(&[0.0, 0.0], &[0.3, 0.7], 0.25, &[true, true]), vec![0.3, 0.7]);
    }

    #[test]
    fn floors_bind_and_shares_still_sum_to_one() {
        let x = apply_floors(&[0.2, 0.5, 0.3], &[0.6, 0.0, 0.0]);
        assert!((x[0] - 0.6).abs() < 1e-12);
        assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((x[1] / x[2] - 5.0 / 3.0).abs() < 1e-9, "others keep their proportions");
        let y = apply_floors(&[0.9, 0.1], &[0.0, 0.0]);
        assert_eq!(y, vec![0.9, 0.1]);
    }

    #[test]
    fn cascading_floors_pin_every_host_below_its_floor() {
        let x = apply_floors(&[0.9, 0.05, 0.05], &[0.0, 0.3, 0.3]);
        assert!((x[1] - 0.3).abs() < 1e-12 && (x[2] - 0.3).abs() < 1e-12);
        assert!((x[0] - 0.4).abs() < 1e-12);
    }

    #[test]
    fn over_full_floors_are_scaled() {
        let x = apply_floors(&[0.5, 0.5], &[0.8, 0.4]);
        assert!((x[0] - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn moved_share_and_credit_discount() {
        assert!((moved_share(&[1.0, 0.0], &[0.6, 0.4]) - 0.4).abs() < 1e-12);
        assert_eq!(credit_discount(0.0, 100.0), 0.0);
        assert!((credit_discount(50.0, 100.0) - 0.45).abs() < 1e-12);
        assert_eq!(credit_discount(1e9, 100.0), 0.9);
    }

    fn plan_inputs<'a>(
        hosts: &'a [f64],
        contracts: &'a [super::super::contracts::Contract],
        reg: &'a super::super::policy::Regulation,
    ) -> PlanInputs<'a> {
        PlanInputs {
            lab: 0,
            tick: 0,
            budget_musd: 146.0,
            revenue_musd: 0.0,
            own_capacity_kgpu: 0.0,
            own_unit_cost: 1.0,
            inference_kgpu: 0.0,
            hosts,
            initial_hosts: &[],
            available: &[true, true],
            prices: &[2.0, 2.0],
            contract_prices: &[],
            free_fraction: &[0.2, 0.2],
            contracts,
            regulation: reg,
            owner: None,
            behaviour: PlanBehaviour {
                weights: W,
                allocation_speed: 0.5,
                reinvest_share: 0.2,
                owner_min_share: 0.8,
                move_penalty: 0.3,
            },
        }
    }

    #[test]
    fn kept_compute_keeps_its_contract_price_and_new_compute_pays_todays() {
        // Half the contracts renew: host 0 keeps 0.5·0.8 = 0.4 at $4 and gets 0.2 more at $3;
        // host 1 shrinks below its kept share, so all of it is still at its old $2.
        let p = contract_prices(&[0.8, 0.2], &[4.0, 2.0], &[0.6, 0.05], &[3.0, 5.0], 0.5);
        assert!((p[0] - (0.4 * 4.0 + 0.2 * 3.0) / 0.6).abs() < 1e-12);
        assert!((p[1] - 2.0).abs() < 1e-12);
        // Nothing placed: the current price; a full renewal: the current price everywhere.
        assert_eq!(
            contract_prices(&[1.0, 0.0], &[4.0, 2.0], &[1.0, 0.0], &[3.0, 5.0], 0.5)[1],
            5.0
        );
        assert_eq!(
            contract_prices(&[0.5, 0.5], &[4.0, 2.0], &[0.5, 0.5], &[3.0, 5.0], 1.0),
            vec![3.0, 5.0]
        );
    }

    #[test]
    fn the_budget_buys_compute_at_contract_prices() {
        let reg = super::super::policy::Regulation::default();
        let mut input = plan_inputs(&[0.5, 0.5], &[], &reg);
        let contracted = [1.0, 1.0];
        input.contract_prices = &contracted;
        // US$ 146 M at the contracted $1 buys 200 kGPU, although today's price is $2.
        let plan = plan_compute(&input);
        assert!((plan.training_kgpu - 200.0).abs() < 1e-9);
        // Half renews at $2: the average contract price after the month is $1.5.
        assert!((plan.contract_prices[0] - 1.5).abs() < 1e-12);
        assert!((plan.avg_host_price - 1.5).abs() < 1e-12);
    }

    #[test]
    fn the_plan_buys_budget_over_price_and_a_commitment_floor_binds() {
        let reg = super::super::policy::Regulation::default();
        // US$ 146 M at $2/GPU-h buys 146 / (0.73 · 2) = 100 kGPU.
        let plan = plan_compute(&plan_inputs(&[0.5, 0.5], &[], &reg));
        assert!((plan.training_kgpu - 100.0).abs() < 1e-9);
        assert!((plan.hosts[0] - 0.5).abs() < 1e-12, "symmetric hosts stay even");
        assert_eq!(plan.efficiency, 1.0);
        let mut c = super::super::contracts::Contract::empty("c", 0, 1, 0);
        c.commitment = 146.0 * 0.9;
        let plan = plan_compute(&plan_inputs(&[0.5, 0.5], std::slice::from_ref(&c), &reg));
        assert!((plan.hosts[1] - 0.9).abs() < 1e-9, "{:?}", plan.hosts);
        // Moving 40 % of compute at a penalty of 0.3 costs 12 % of training output.
        assert!((plan.efficiency - (1.0 - 0.3 * 0.4)).abs() < 1e-9);
    }

    #[test]
    fn weighted_price_falls_back_to_the_cheapest_available_host() {
        assert_eq!(weighted_price(&[0.0, 0.0], &[3.0, 2.0], &[true, true]), 2.0);
        assert_eq!(weighted_price(&[0.0, 0.0], &[3.0, 2.0], &[true, false]), 3.0);
        assert!((weighted_price(&[0.25, 0.75], &[4.0, 2.0], &[true, true]) - 2.5).abs() < 1e-12);
    }

    proptest::proptest! {
        #[test]
        fn floored_shares_respect_floors_and_sum_to_one(
            s in proptest::collection::vec(0.0f64..1.0, 4),
            f in proptest::collection::vec(0.0f64..0.24, 4),
        ) {
            let total: f64 = s.iter().sum();
            proptest::prop_assume!(total > 1e-6);
            let s: Vec<f64> = s.iter().map(|x| x / total).collect();
            let x = apply_floors(&s, &f);
            proptest::prop_assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            for i in 0..4 {
                proptest::prop_assert!(x[i] >= f[i] - 1e-12);
            }
        }
    }
}
