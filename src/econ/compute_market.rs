//! The market for rented compute as the providers see it when they set prices: the labs'
//! allocation logit ([`super::allocation`]) written as a [`bertrand::Market`].
//!
//! Each month a lab moves a fraction λ (`allocation_speed`) of its rented compute `R_l` to its
//! logit target; the rest stays where it is. So for provider p
//!
//! ```text
//! segment l:  M_l = λ·R_l,   U_lp = −β_h·ln p_p + β_f·ln max(free_p, 0.02) − α·x_lp   (no outside option)
//! installed:  B_p = Σ_l (1 − λ)·x_lp·R_l + (1 + m_p)·Q_p
//! future:     L   = δ(1 − λ) / (1 − δ(1 − λ))        (a share won now decays at the rate λ)
//! cost:       c_p (this month's unit cost), capacity K_p
//! ```
//!
//! where `x_lp` is lab l's current share on p, `Q_p` the enterprise inference on p's marketplace
//! (it pays `p_p(1 + m_p)` per GPU-hour, so a price change moves that revenue by `(1 + m_p)·Q_p`:
//! it enters the first-order condition as installed base; enterprises' response to the compute
//! price through the marketplace price is left out of the providers' calculation) and δ the
//! monthly discount factor. The capacity is shifted to `K_p + m_p·Q_p` to match. Sellers do not anticipate contract floors (exclusivity, commitments,
//! owner minimum shares): those are applied to the labs' allocations afterwards.

use super::bertrand::{Market, PriceForm, Product, Segment};

/// What the providers' pricing sees of one lab.
#[derive(Debug, Clone)]
pub struct LabDemand<'a> {
    /// Rented compute this month, kGPU.
    pub rented_kgpu: f64,
    /// Current share on each provider.
    pub shares: &'a [f64],
}

/// What it sees of one provider.
#[derive(Debug, Clone, Copy)]
pub struct Seller {
    /// Whether the provider operates.
    pub active: bool,
    /// Owner index: providers with one owner price jointly.
    pub owner: usize,
    /// This month's unit cost, US$/GPU-hour.
    pub unit_cost: f64,
    /// Capacity in service, kGPU.
    pub capacity_kgpu: f64,
    /// Fraction of capacity free last month.
    pub free_fraction: f64,
    /// Enterprise inference on its marketplace, kGPU.
    pub marketplace_kgpu: f64,
    /// Marketplace margin over the compute price.
    pub marketplace_margin: f64,
}

/// Coefficients of the labs' allocation and of the sellers' horizon.
#[derive(Debug, Clone, Copy)]
pub struct ComputeBehaviour {
    /// β_h: utility per log price.
    pub price_weight: f64,
    /// β_f: utility per log free-capacity fraction.
    pub free_capacity_weight: f64,
    /// α: utility cost per unit of current share.
    pub dependency_aversion: f64,
    /// λ: share of rented compute re-allocated a month.
    pub allocation_speed: f64,
    /// δ: monthly discount factor; 0 for myopic sellers.
    pub monthly_discount: f64,
}

/// Utility of the absent outside option: the labs' allocation has none.
const NO_OUTSIDE: f64 = -1e6;

/// The providers' pricing market. Products are all providers in index order (inactive ones get
/// no demand: a prohibitive utility), segments the labs with rented compute.
pub fn market(sellers: &[Seller], labs: &[LabDemand], b: &ComputeBehaviour) -> Market {
    let lambda = b.allocation_speed;
    let future = super::bertrand::future_months(b.monthly_discount, lambda);
    let products = sellers
        .iter()
        .enumerate()
        .map(|(p, s)| {
            let lab_base: f64 = labs.iter().map(|l| (1.0 - lambda) * l.shares[p] * l.rented_kgpu).sum();
            Product {
                base_utility: if s.active { 0.0 } else { NO_OUTSIDE },
                fixed: 0.0,
                cost: s.unit_cost,
                owner: s.owner,
                installed: if s.active {
                    lab_base + (1.0 + s.marketplace_margin) * s.marketplace_kgpu
                } else {
                    0.0
                },
                // Installed base counts marketplace compute at (1 + m) for its revenue; the
                // capacity is shifted by the same m·Q so that D_p ≤ K_p still means
                // "served compute within capacity".
                capacity: s
                    .active
                    .then_some(s.capacity_kgpu + s.marketplace_margin * s.marketplace_kgpu),
                future_months: future,
            }
        })
        .collect();
    let segments = labs
        .iter()
        .filter(|l| l.rented_kgpu > 0.0)
        .map(|l| Segment {
            mass: lambda * l.rented_kgpu,
            outside_utility: NO_OUTSIDE,
            bonus: sellers
                .iter()
                .enumerate()
                .map(|(p, s)| {
                    b.free_capacity_weight * s.free_fraction.max(0.02).ln() - b.dependency_aversion * l.shares[p]
                })
                .collect(),
        })
        .collect();
    Market {
        form: PriceForm::Log { beta: b.price_weight },
        products,
        segments,
    }
}

/// Monthly discount factor of an annual rate: `(1 + r)^(−1/12)`.
pub fn monthly_discount(annual_rate: f64) -> f64 {
    (1.0 + annual_rate).powf(-1.0 / 12.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::allocation::{AllocationWeights, HostView, target_shares};
    use crate::econ::bertrand::shares;

    fn seller(cost: f64) -> Seller {
        Seller {
            active: true,
            owner: 0,
            unit_cost: cost,
            capacity_kgpu: 1e6,
            free_fraction: 0.2,
            marketplace_kgpu: 0.0,
            marketplace_margin: 0.3,
        }
    }

    fn behaviour() -> ComputeBehaviour {
        ComputeBehaviour {
            price_weight: 3.0,
            free_capacity_weight: 0.5,
            dependency_aversion: 2.0,
            allocation_speed: 0.08,
            monthly_discount: monthly_discount(0.1),
        }
    }

    #[test]
    fn segment_shares_are_the_labs_allocation_targets() {
        // The pricing market must predict exactly the target the lab will compute.
        let mut sellers = vec![seller(2.0), seller(1.8), seller(1.7)];
        sellers[1].free_fraction = 0.05;
        let current = [0.5, 0.3, 0.2];
        let prices = [4.2, 2.6, 2.3];
        let labs = [LabDemand {
            rented_kgpu: 100.0,
            shares: &current,
        }];
        let b = behaviour();
        let m = market(&sellers, &labs, &b);
        let (s, outside) = shares(&m, &prices, 0);
        let views: Vec<HostView> = (0..3)
            .map(|p| HostView {
                available: true,
                effective_price: prices[p],
                free_fraction: sellers[p].free_fraction,
                current_share: current[p],
            })
            .collect();
        let target = target_shares(
            &views,
            &AllocationWeights {
                price_weight: b.price_weight,
                free_capacity_weight: b.free_capacity_weight,
                dependency_aversion: b.dependency_aversion,
            },
        );
        assert!(outside < 1e-12);
        for p in 0..3 {
            assert!((s[p] - target[p]).abs() < 1e-12, "{p}: {} vs {}", s[p], target[p]);
        }
    }

    #[test]
    fn installed_base_is_the_compute_that_stays_plus_marketplace_revenue() {
        let mut sellers = vec![seller(2.0), seller(1.8)];
        sellers[0].marketplace_kgpu = 10.0;
        let current = [0.75, 0.25];
        let labs = [LabDemand {
            rented_kgpu: 200.0,
            shares: &current,
        }];
        let m = market(&sellers, &labs, &behaviour());
        assert!((m.products[0].installed - (0.92 * 150.0 + 1.3 * 10.0)).abs() < 1e-9);
        assert!((m.products[1].installed - 0.92 * 50.0).abs() < 1e-9);
        assert!((m.segments[0].mass - 16.0).abs() < 1e-12);
        // A share won decays at the re-allocation rate: δ(1 − λ)/(1 − δ(1 − λ)).
        let keep = monthly_discount(0.1) * 0.92;
        assert!((m.products[0].future_months - keep / (1.0 - keep)).abs() < 1e-12);
    }

    #[test]
    fn inactive_providers_win_nothing() {
        let mut sellers = vec![seller(2.0), seller(1.8)];
        sellers[1].active = false;
        let current = [1.0, 0.0];
        let labs = [LabDemand {
            rented_kgpu: 50.0,
            shares: &current,
        }];
        let m = market(&sellers, &labs, &behaviour());
        let (s, _) = shares(&m, &[4.0, 1.0], 0);
        assert!(s[1] < 1e-12 && (s[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn annual_discount_compounds_to_the_monthly_factor() {
        assert!((monthly_discount(0.1).powi(12) - 1.0 / 1.1).abs() < 1e-12);
        assert_eq!(monthly_discount(0.0), 1.0);
    }
}
