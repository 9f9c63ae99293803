//! How a lab spreads its rented compute across providers.
//!
//! Each month a lab computes a logit target over the providers it can use,
//!
//! ```text
//! u_p = −host_price_weight · ln(effective price_p) + free_capacity_weight · ln(max(free_p, 0.02))
//!       − dependency_aversion · x_p
//! ```
//!
//! where the effective price is lowered by unspent compute credits on p, raised by the cost of
//! moving training compute onto p (the co-designed-cluster penalty), and `x_p` is the lab's
//! current share on p (labs dislike having most compute on one provider). It moves a fraction
//! `allocation_speed` of the way to the target (multi-year contracts adjust slowly), lifts
//! contractual floors (exclusivity first, then take-or-pay commitments), and lets partners with
//! a right of first refusal match what would move to a rival.

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
    /// Months over which a lab spreads an unspent credit balance (it draws at most
    /// `credits / credit_draw_months` a month).
    pub credit_draw_months: f64,
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
    /// Capacity per provider, kGPU (empty: exclusivity is never capped by capacity).
    pub capacity_kgpu: &'a [f64],
    /// Unit cost per provider, US$/GPU-hour (empty: no right of first refusal is exercised).
    pub unit_cost: &'a [f64],
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
    /// Credits the lab plans to draw on each provider this month (settlement draws at most
    /// this much), US$ M.
    pub credit_draw: Vec<f64>,
    /// The default rule fired: every active commitment is multiplied by this factor (< 1).
    pub renegotiation: Option<f64>,
    /// Share of rented compute that partners with a right of first refusal retained by matching.
    pub rofr_matched: f64,
    /// Take-or-pay shortfall the plan expects to pay (reserved out of the budget), US$ M.
    pub expected_shortfall: f64,
    /// Commitment on each provider excused because the provider cannot supply it (the spend of
    /// the compute beyond what it can deliver), US$ M.
    pub excused: Vec<f64>,
}

/// Credits drawn per provider when the lab's cash `cash_musd` buys training compute spread by
/// `shares`, and credits pay for compute at their provider first, at most `limit[p]` a month:
/// the spend `S` solves `S = cash + Σ_p min(limit_p, x_p · S)` (credit-paid compute costs no
/// cash, so cash and credits together buy more). Returns the draws `min(limit_p, x_p · S)`.
pub fn credit_draws(cash_musd: f64, shares: &[f64], limit: &[f64]) -> Vec<f64> {
    let n = shares.len();
    let cash = cash_musd.max(0.0);
    // Saturated providers pay `limit_p`; the others pay `x_p · S`. Start with all saturated
    // (the largest S) and release those whose share of S falls short; S only falls, so at most
    // n passes.
    let mut saturated: Vec<bool> = (0..n).map(|p| limit[p] > 0.0).collect();
    let mut spend = 0.0;
    for _ in 0..=n {
        let fixed: f64 = (0..n).filter(|&p| saturated[p]).map(|p| limit[p]).sum();
        let open: f64 = (0..n)
            .filter(|&p| !saturated[p] && limit[p] > 0.0)
            .map(|p| shares[p])
            .sum();
        spend = if open < 1.0 {
            (cash + fixed) / (1.0 - open)
        } else {
            f64::INFINITY
        };
        let release: Vec<usize> = (0..n)
            .filter(|&p| saturated[p] && shares[p] * spend < limit[p])
            .collect();
        if release.is_empty() {
            break;
        }
        for p in release {
            saturated[p] = false;
        }
    }
    (0..n)
        .map(|p| {
            if limit[p] > 0.0 {
                limit[p].min(shares[p] * spend)
            } else {
                0.0
            }
        })
        .collect()
}

/// The co-designed-cluster penalty at the moment of choice: compute placed on host p that is not
/// there now must move, and moved training loses `move_penalty` of its output that month, so its
/// price is effectively `1 + move_penalty · τ · (1 − x_p)` times higher, `τ` the training share
/// of rented compute and `x_p` the lab's current share on p (a host that holds everything costs
/// nothing to stay on).
pub fn move_cost_factor(move_penalty: f64, training_share: f64, current_share: f64) -> f64 {
    1.0 + move_penalty * training_share.clamp(0.0, 1.0) * (1.0 - current_share).clamp(0.0, 1.0)
}

/// Right of first refusal: compute the lab would move off a partner p holding a ROFR is offered
/// to p at the price of the rival r it would move to; p matches (keeps it, at r's price) when
/// r's price is at least p's unit cost. Returns the shares after matching and, per partner, the
/// share retained with the price it was matched at (`(share, average matched price)`).
pub fn match_rofr(
    previous: &[f64],
    next: &[f64],
    floors: &[f64],
    partners: &[usize],
    prices: &[f64],
    unit_cost: &[f64],
) -> (Vec<f64>, Vec<(f64, f64)>) {
    let n = next.len();
    let mut x = next.to_vec();
    let mut matched = vec![(0.0, 0.0); n];
    for &p in partners {
        let lost = (previous[p] - x[p]).max(0.0);
        if lost <= 0.0 {
            continue;
        }
        // Where the lost compute goes: the rivals that gain, in proportion to their gains (a
        // rival held at its floor is not eligible to give compute back).
        let gains: Vec<f64> = (0..n)
            .map(|r| {
                if r == p {
                    0.0
                } else {
                    (x[r] - previous[r].max(floors[r])).max(0.0)
                }
            })
            .collect();
        let total: f64 = gains.iter().sum();
        if total <= 0.0 {
            continue;
        }
        let movable = lost.min(total);
        let (mut kept, mut value) = (0.0, 0.0);
        for r in 0..n {
            if gains[r] > 0.0 && prices[r] >= unit_cost[p] {
                let m = movable * gains[r] / total;
                x[r] -= m;
                kept += m;
                value += m * prices[r];
            }
        }
        if kept > 0.0 {
            x[p] += kept;
            matched[p] = (kept, value / kept);
        }
    }
    (x, matched)
}

/// Sizes a lab's training demand and spreads its rented compute (§7.4 of docs/MODEL.md).
///
/// 1. Means `M = budget + ρ · revenue + Σ_p credit draw_p` ([`credit_draws`] over last month's
///    mix, each draw at most `credits_p / credit_draw_months`).
/// 2. Default rule: active commitments above `M` plus the spend on direct-API inference (paid
///    by enterprise revenue) are renegotiated down pro rata to that amount
///    (`econ::contracts::renegotiation_factor`; the caller makes it permanent and logs it).
/// 3. Training `T = own + M / (0.73 · p̄)` at the allocation-weighted contract price `p̄`;
///    rented `R = T + I − own`.
/// 4. A logit target over hosts with credit-discounted prices raised by the move cost
///    ([`move_cost_factor`]); partial adjustment (or the configured initial mix).
/// 5. Floors: exclusivity (capped by what the partner can supply) before commitments
///    (`econ::contracts::combined_floors`); then rights of first refusal ([`match_rofr`]).
/// 6. The take-or-pay shortfall expected at that allocation is reserved out of the means (one
///    pass: training shrinks by `shortfall / (0.73 · p̄)`, shares stay).
pub fn plan_compute(input: &PlanInputs) -> Plan {
    let b = &input.behaviour;
    let n = input.available.len();
    let first = input.hosts.iter().sum::<f64>() <= 0.0;
    let previous: Vec<f64> = if first { vec![0.0; n] } else { input.hosts.to_vec() };
    // The budget buys compute at the prices the lab pays: its contract prices.
    let contracted: Vec<f64> = if input.contract_prices.len() == n {
        input.contract_prices.to_vec()
    } else {
        input.prices.to_vec()
    };
    let avg_price = weighted_price(&previous, &contracted, input.available);
    let mine = |p: usize| {
        input
            .contracts
            .iter()
            .filter(move |c| c.lab == input.lab && c.provider == p && c.active(input.tick))
    };
    let credits: Vec<f64> = (0..n)
        .map(|p| {
            if input.available[p] {
                mine(p).map(|c| c.credits).sum()
            } else {
                0.0
            }
        })
        .collect();
    let cash = input.budget_musd + b.reinvest_share * input.revenue_musd;
    // Last month's mix (or the configured initial one, or an even spread) decides where credits
    // can be spent this month.
    let mix: Vec<f64> = if !first {
        previous.clone()
    } else if !input.initial_hosts.is_empty() {
        input.initial_hosts.to_vec()
    } else {
        let k = input.available.iter().filter(|a| **a).count().max(1) as f64;
        input.available.iter().map(|a| if *a { 1.0 / k } else { 0.0 }).collect()
    };
    let limit: Vec<f64> = credits.iter().map(|c| c / b.credit_draw_months.max(1.0)).collect();
    let credit_draw = credit_draws(cash, &mix, &limit);
    let means = cash + credit_draw.iter().sum::<f64>();
    let unit = super::pricing::MUSD_PER_KGPU_MONTH_PER_DOLLAR_HOUR * avg_price;
    // Commitments are on all rented compute: the means they are held against add the spend on
    // direct-API inference, which enterprise revenue pays for.
    let inference_spend = (input.inference_kgpu - input.own_capacity_kgpu).max(0.0) * unit;
    let renegotiation =
        super::contracts::renegotiation_factor(input.contracts, input.lab, input.tick, means + inference_spend);
    let training_kgpu = input.own_capacity_kgpu + means.max(0.0) / unit;
    let rented = (training_kgpu + input.inference_kgpu - input.own_capacity_kgpu).max(0.0);

    let training_share = if rented > 0.0 {
        ((training_kgpu - input.own_capacity_kgpu).max(0.0) / rented).min(1.0)
    } else {
        0.0
    };
    let views: Vec<HostView> = (0..n)
        .map(|p| {
            let annual = 12.0 * super::pricing::spend_musd(rented, input.prices[p]);
            let moving = if first {
                1.0
            } else {
                move_cost_factor(b.move_penalty, training_share, previous[p])
            };
            HostView {
                available: input.available[p],
                effective_price: input.prices[p] * (1.0 - credit_discount(credits[p], annual)) * moving,
                free_fraction: input.free_fraction[p],
                current_share: previous[p],
            }
        })
        .collect();
    let target = target_shares(&views, &b.weights);
    let adjusted = if first && !input.initial_hosts.is_empty() {
        input.initial_hosts.to_vec()
    } else {
        adjust(&previous, &target, b.allocation_speed, input.available)
    };
    // What each provider can supply the lab: what it holds there plus the free capacity.
    let supply: Vec<f64> = if input.capacity_kgpu.len() == n {
        (0..n)
            .map(|p| previous[p] * rented + input.free_fraction[p].max(0.0) * input.capacity_kgpu[p])
            .collect()
    } else {
        Vec::new()
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
        renegotiation.unwrap_or(1.0),
        &supply,
    );
    let combined = super::contracts::combined_floors(&floors);
    let floored = apply_floors(&adjusted, &combined);
    let partners: Vec<usize> = (0..n)
        .filter(|&p| input.available[p] && mine(p).any(|c| c.rofr))
        .collect();
    let (next, matched) = if first || partners.is_empty() || input.unit_cost.len() != n {
        (floored, vec![(0.0, 0.0); n])
    } else {
        match_rofr(&previous, &floored, &combined, &partners, input.prices, input.unit_cost)
    };
    let rofr_matched = matched.iter().map(|m| m.0).sum();
    // ROFR-matched compute is contracted at the rival's price, not the partner's list price.
    let mut contract_prices = contract_prices(&previous, &contracted, &next, input.prices, b.allocation_speed);
    for p in 0..n {
        let (m, price) = matched[p];
        if m > 0.0 && next[p] > 0.0 {
            let kept = ((1.0 - b.allocation_speed) * previous[p]).min(next[p]);
            let fresh = next[p] - kept;
            let at_match = m.min(fresh);
            let fresh_price = if fresh > 0.0 {
                (at_match * price + (fresh - at_match) * input.prices[p]) / fresh
            } else {
                input.prices[p]
            };
            contract_prices[p] = (kept * contracted[p] + fresh * fresh_price) / next[p];
        }
    }
    // Take-or-pay: what the commitments ask beyond the spend placed at their providers, less
    // what a provider short of capacity could not have delivered (excused).
    let scale = renegotiation.unwrap_or(1.0);
    let committed: Vec<f64> = (0..n).map(|p| mine(p).map(|c| scale * c.commitment).sum()).collect();
    let excused: Vec<f64> = (0..n)
        .map(|p| {
            if supply.is_empty() || committed[p] <= 0.0 {
                0.0
            } else {
                (committed[p] - super::pricing::spend_musd(supply[p].max(0.0), contract_prices[p])).max(0.0)
            }
        })
        .collect();
    let expected_shortfall: f64 = (0..n)
        .map(|p| {
            (committed[p] - excused[p] - super::pricing::spend_musd(next[p] * rented, contract_prices[p])).max(0.0)
        })
        .sum::<f64>()
        .min(means.max(0.0));
    let training_kgpu = training_kgpu - expected_shortfall / unit;
    let moved = if first { 0.0 } else { moved_share(&previous, &next) };
    let total = training_kgpu + input.inference_kgpu;
    let own_used = input.own_capacity_kgpu.min(total);
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
        credit_draw,
        renegotiation,
        rofr_matched,
        expected_shortfall,
        excused,
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
            capacity_kgpu: &[],
            unit_cost: &[],
            contracts,
            regulation: reg,
            owner: None,
            behaviour: PlanBehaviour {
                weights: W,
                allocation_speed: 0.5,
                reinvest_share: 0.2,
                owner_min_share: 0.8,
                move_penalty: 0.3,
                credit_draw_months: 12.0,
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
    fn credits_pay_the_partners_share_of_the_spend_up_to_the_monthly_draw() {
        // Half the compute at the partner, no cap on the draw: S = 100 + 0.5·S → S = 200.
        let d = credit_draws(100.0, &[0.5, 0.5], &[1000.0, 0.0]);
        assert!((d[0] - 100.0).abs() < 1e-9 && d[1] == 0.0);
        // A draw of at most 30: S = 130, and 30 is less than half of it.
        let d = credit_draws(100.0, &[0.5, 0.5], &[30.0, 0.0]);
        assert!((d[0] - 30.0).abs() < 1e-12);
        // Everything at the partner: the whole draw adds to the cash.
        assert!((credit_draws(100.0, &[1.0, 0.0], &[50.0, 0.0])[0] - 50.0).abs() < 1e-12);
        // No credits, no draw.
        assert_eq!(credit_draws(100.0, &[0.5, 0.5], &[0.0, 0.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn credit_paid_compute_costs_no_cash_so_the_budget_buys_more() {
        let reg = super::super::policy::Regulation::default();
        let mut c = super::super::contracts::Contract::empty("c", 0, 1, 0);
        // 1,200 over 12 months: at most 100 a month; half the compute is on the partner, so the
        // spend S = 146 + min(100, 0.5 S) = 246 buys 246 / (0.73 · 2) kGPU, not 100.
        c.credits = 1200.0;
        let plan = plan_compute(&plan_inputs(&[0.5, 0.5], std::slice::from_ref(&c), &reg));
        assert!((plan.credit_draw[1] - 100.0).abs() < 1e-9, "{:?}", plan.credit_draw);
        assert!(
            (plan.training_kgpu - 246.0 / 1.46).abs() < 1e-9,
            "{}",
            plan.training_kgpu
        );
        // Without credits (the old behaviour) the same budget buys 100 kGPU.
        let plan = plan_compute(&plan_inputs(&[0.5, 0.5], &[], &reg));
        assert!((plan.training_kgpu - 100.0).abs() < 1e-9);
    }

    #[test]
    fn the_move_penalty_keeps_compute_where_it_is_at_the_moment_of_choice() {
        let reg = super::super::policy::Regulation::default();
        let prev = [0.9, 0.1];
        let share_on_0 = |m: f64| {
            let mut input = plan_inputs(&prev, &[], &reg);
            input.behaviour.move_penalty = m;
            plan_compute(&input).hosts[0]
        };
        // Independently: all rented compute is training (τ = 1); host 1 costs 1 + m · 0.9 more,
        // host 0 1 + m · 0.1; the logit with β = 2, α = 1 and half-way adjustment.
        let expected = |m: f64| {
            let u0 = -2.0 * (2.0 * (1.0 + m * 0.1_f64)).ln() - 0.9;
            let u1 = -2.0 * (2.0 * (1.0 + m * 0.9_f64)).ln() - 0.1;
            0.5 * 0.9 + 0.5 * u0.exp() / (u0.exp() + u1.exp())
        };
        for m in [0.0, 0.3, 1.0] {
            assert!((share_on_0(m) - expected(m)).abs() < 1e-9, "m = {m}");
        }
        // A penalty that only cost output after the choice would leave the shares equal.
        assert!(share_on_0(1.0) > share_on_0(0.3) && share_on_0(0.3) > share_on_0(0.0) + 0.04);
    }

    #[test]
    fn a_right_of_first_refusal_matches_at_the_rivals_price_when_it_covers_cost() {
        // The lab would move 0.2 from the partner (0) to host 1 at $3.
        let (x, m) = match_rofr(&[0.6, 0.4], &[0.4, 0.6], &[0.0, 0.0], &[0], &[2.0, 3.0], &[1.5, 1.0]);
        assert!((x[0] - 0.6).abs() < 1e-12 && (x[1] - 0.4).abs() < 1e-12);
        assert!((m[0].0 - 0.2).abs() < 1e-12 && (m[0].1 - 3.0).abs() < 1e-12);
        // The rival's $3 is below the partner's $3.5 unit cost: no match, the move goes ahead.
        let (x, m) = match_rofr(&[0.6, 0.4], &[0.4, 0.6], &[0.0, 0.0], &[0], &[2.0, 3.0], &[3.5, 1.0]);
        assert_eq!(x, vec![0.4, 0.6]);
        assert_eq!(m[0].0, 0.0);
        // Compute placed on a rival by its floor is not the lab's choice and is not matched.
        let (x, _) = match_rofr(&[0.6, 0.4], &[0.4, 0.6], &[0.0, 0.6], &[0], &[2.0, 3.0], &[1.5, 1.0]);
        assert_eq!(x, vec![0.4, 0.6]);
    }

    #[test]
    fn rofr_matched_compute_is_priced_at_the_rivals_price_in_the_plan() {
        let reg = super::super::policy::Regulation::default();
        let mut c = super::super::contracts::Contract::empty("c", 0, 0, 0);
        c.rofr = true;
        // Host 1 is cheaper ($1 against $2), so the lab moves towards it; the partner (cost $0.5)
        // matches and keeps all its compute.
        let cs = [c];
        let mut input = plan_inputs(&[0.5, 0.5], &cs, &reg);
        input.prices = &[2.0, 1.0];
        input.contract_prices = &[2.0, 1.0];
        input.unit_cost = &[0.5, 0.5];
        let plan = plan_compute(&input);
        assert!((plan.hosts[0] - 0.5).abs() < 1e-12, "{:?}", plan.hosts);
        // Independently: the target on host 0 is 0.25 / 1.25 = 0.2 (β = 2, price ratio 2), so
        // the lab would move to 0.5·0.5 + 0.5·0.2 = 0.35; the partner matches the 0.15. Half of
        // host 0's 0.5 renews: 0.15 of it at the matched $1, 0.10 at its own $2, the kept 0.25
        // keeps $2.
        assert!((plan.rofr_matched - 0.15).abs() < 1e-12);
        assert!((plan.contract_prices[0] - (0.25 * 2.0 + 0.15 * 1.0 + 0.10 * 2.0) / 0.5).abs() < 1e-12);
        // Without the right the lab moves.
        let mut input = plan_inputs(&[0.5, 0.5], &[], &reg);
        input.prices = &[2.0, 1.0];
        input.unit_cost = &[0.5, 0.5];
        assert!(plan_compute(&input).hosts[0] < 0.45);
    }

    #[test]
    fn exclusivity_of_one_sends_all_rented_compute_to_the_partner_and_the_commitment_elsewhere_is_paid() {
        let reg = super::super::policy::Regulation::default();
        let mut ex = super::super::contracts::Contract::empty("ex", 0, 0, 0);
        ex.min_compute_share = 1.0;
        let mut com = super::super::contracts::Contract::empty("com", 0, 1, 0);
        com.commitment = 50.0;
        let cs = [ex, com];
        let plan = plan_compute(&plan_inputs(&[0.5, 0.5], &cs, &reg));
        assert_eq!(plan.hosts, vec![1.0, 0.0]);
        // The 50 committed at host 1 is a shortfall the plan reserves: 146 − 50 buys compute.
        assert!((plan.expected_shortfall - 50.0).abs() < 1e-9);
        assert!((plan.training_kgpu - 96.0 / 1.46).abs() < 1e-9);
        // A partner that can supply only 0.2·100 + 0.2·50 = 30 of the 100 kGPU has a floor of
        // 0.3: the lab keeps spreading; with ample capacity, everything goes to the partner.
        let mut input = plan_inputs(&[0.2, 0.8], &cs, &reg);
        input.capacity_kgpu = &[50.0, 1e6];
        let plan = plan_compute(&input);
        assert!(plan.hosts[0] < 0.5 && plan.hosts[0] >= 0.3 - 1e-12, "{:?}", plan.hosts);
        input.capacity_kgpu = &[1e6, 1e6];
        assert_eq!(plan_compute(&input).hosts, vec![1.0, 0.0]);
    }

    #[test]
    fn commitments_beyond_the_means_are_renegotiated_in_the_plan() {
        let reg = super::super::policy::Regulation::default();
        let mut com = super::super::contracts::Contract::empty("com", 0, 1, 0);
        com.commitment = 292.0;
        // Means 146 against 292 committed: the factor is 1/2, and the floor is 146 / 146 = 1.
        let plan = plan_compute(&plan_inputs(&[0.5, 0.5], std::slice::from_ref(&com), &reg));
        assert_eq!(plan.renegotiation, Some(0.5));
        assert!((plan.hosts[1] - 1.0).abs() < 1e-9);
        assert!(plan.expected_shortfall < 1e-9, "the renegotiated commitment is met");
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
