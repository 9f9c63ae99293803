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
