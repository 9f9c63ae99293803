//! The market for rented compute as the providers see it when they set prices: the labs'
//! allocation logit ([`super::allocation`]) written as a [`bertrand::Market`].
//!
//! Labs rent compute under multi-year contracts: each month a lab re-contracts a fraction λ
//! (`allocation_speed`) of its rented compute `R_l` at this month's prices, placed by its logit
//! target; the rest keeps the price it was contracted at ([`super::allocation::contract_prices`]).
//! So today's price of provider p earns on the compute it wins today, for as long as that compute
//! stays, and on the enterprise inference of its marketplace, which pays today's price:
//!
//! ```text
//! segment l:  M_l = (1 + L)·λ·R_l,   U_lp = −β_h·ln p_p + β_f·ln max(free_p, 0.02) − α·x_lp   (no outside option)
//! L = δ(1 − λ) / (1 − δ(1 − λ))          (expected further months of a contract won now, discounted)
//! installed:  B_p(p) = (1 + m_p)·Q_p·((p + a_p)/(p̄ + a_p))^(−ε_p)   ([`marketplace_response`])
//! owner o maximises  Σ_{p∈o} (p_p − c_p)·(B_p + (1 + L)·W_p),   W_p = Σ_l λ R_l s_lp
//! ```
//!
//! Scaling the segment masses by `1 + L` is exact because the won compute pays today's price for
//! its whole stay (the future margin moves with today's price; L is common to all providers).
//! `Q_p` is the enterprise inference on p's marketplace: it pays `p_p(1 + m_p)` per GPU-hour, so a
//! price change moves that revenue by `(1 + m_p)·Q_p` (Klemperer's harvest), less what
//! enterprises withdraw: the marketplace price rises with the compute price, and the workloads
//! that choose (new projects and reviews) choose by the AI logit, so the base has a price
//! elasticity ε_p; a forward-looking seller faces the stock's elasticity, a myopic one only the
//! month's choosers'. δ is the monthly discount factor (0 for myopic sellers: the flow then counts for
//! one month only, and the harvest weighs more). Capacity: compute kept under contract
//! (`K_p^kept = Σ_l (1 − λ) x_lp R_l`), the marketplace and the flow must fit in `K_p`;
//! `Q + W ≤ K − kept` is the same as `B_p + (1 + L) W_p ≤ (1 + m)Q + (1 + L)(K − kept − Q)`, the
//! capacity given to the product. When `K − kept − Q ≤ 0` the fleet is full: there is no room for
//! a flow, so new contracts are priced at the solver's ceiling (the shadow price of a full fleet,
//! `Binding::Capacity`) and settlement rations what is already contracted. (The base's shrinkage
//! with price frees capacity in revenue units `(1 + m)·ΔQ` rather than `ΔQ`: an approximation.)
//! Sellers do not anticipate contract floors (exclusivity,
//! commitments, owner minimum shares): those are applied to the labs' allocations afterwards.

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
    /// Response of the marketplace inference to the compute price, `(ε, a)` ([`marketplace_response`]).
    pub marketplace_response: (f64, f64),
    /// Current compute price (the reference of that elasticity), US$/GPU-hour.
    pub price: f64,
}

/// How a provider's marketplace inference responds to its compute price p: the options on its
/// marketplace cost `P_k = p(1 + m) + fee_k`, and enterprises choose by the logit in `ln P_k`,
/// so the inference responds like `(p + a)^(−ε)` with
///
/// ```text
/// ε = h · β · Σ_k w_k (1 − s_k),     a = Σ_k w_k · fee_k / (1 + m)
/// ```
///
/// weights `w_k` the options' shares of p's marketplace inference, `s_k` the option's share of
/// the AI choice, and `h` the share of the inference that responds within the seller's horizon
/// (a forward-looking seller: 1, the stock responds as the flow of new and reviewed workloads
/// accumulates; a myopic seller: the month's share of workloads that choose). Returns `(ε, a)`.
///
/// `options`: per marketplace option on p, `(inference kGPU, s_k, P_k)`.
pub fn marketplace_response(
    beta: f64,
    price: f64,
    margin: f64,
    options: &[(f64, f64, f64)],
    horizon_share: f64,
) -> (f64, f64) {
    let total: f64 = options.iter().filter(|o| o.2 > 0.0).map(|o| o.0).sum();
    if total <= 0.0 {
        return (0.0, 0.0);
    }
    let (mut eps, mut offset) = (0.0, 0.0);
    for &(q, s, p_k) in options.iter().filter(|o| o.2 > 0.0) {
        let w = q / total;
        eps += w * (1.0 - s);
        offset += w * (p_k - price * (1.0 + margin)).max(0.0) / (1.0 + margin);
    }
    (horizon_share * beta * eps, offset)
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
    /// λ: share of rented compute re-contracted a month.
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
    let scale = 1.0 + super::bertrand::future_months(b.monthly_discount, lambda);
    let products = sellers
        .iter()
        .enumerate()
        .map(|(p, s)| {
            let kept: f64 = labs.iter().map(|l| (1.0 - lambda) * l.shares[p] * l.rented_kgpu).sum();
            let q = s.marketplace_kgpu;
            let room = s.capacity_kgpu - kept - q;
            Product {
                base_utility: if s.active { 0.0 } else { NO_OUTSIDE },
                fixed: 0.0,
                cost: s.unit_cost,
                owner: s.owner,
                installed: if s.active {
                    (1.0 + s.marketplace_margin) * q
                } else {
                    0.0
                },
                installed_elasticity: s.marketplace_response.0,
                reference_price: s.price,
                installed_offset: s.marketplace_response.1,
                // When the compute kept under contract and the marketplace already fill the
                // capacity there is no room for a flow: new contracts go to the ceiling.
                capacity: s
                    .active
                    .then_some((1.0 + s.marketplace_margin) * q + scale * room.max(0.0)),
                future_months: 0.0,
            }
        })
        .collect();
    let segments = labs
        .iter()
        .filter(|l| l.rented_kgpu > 0.0)
        .map(|l| Segment {
            mass: scale * lambda * l.rented_kgpu,
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
    use crate::econ::bertrand::{self, Solver, shares};

    fn seller(cost: f64) -> Seller {
        Seller {
            active: true,
            owner: 0,
            unit_cost: cost,
            capacity_kgpu: 1e6,
            free_fraction: 0.2,
            marketplace_kgpu: 0.0,
            marketplace_margin: 0.3,
            marketplace_response: (0.0, 0.0),
            price: 2.0 * cost,
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
    fn contracted_compute_earns_for_its_whole_stay_and_the_marketplace_is_the_base() {
        let mut sellers = vec![seller(2.0), seller(1.8)];
        sellers[0].marketplace_kgpu = 10.0;
        let current = [0.75, 0.25];
        let labs = [LabDemand {
            rented_kgpu: 200.0,
            shares: &current,
        }];
        let m = market(&sellers, &labs, &behaviour());
        let keep = monthly_discount(0.1) * 0.92;
        let scale = 1.0 + keep / (1.0 - keep);
        assert!((m.products[0].installed - 1.3 * 10.0).abs() < 1e-9);
        assert_eq!(m.products[1].installed, 0.0);
        assert!((m.segments[0].mass - scale * 16.0).abs() < 1e-9);
        // Capacity: kept 0.92·150 and marketplace 10 leave K − 148 for the flow.
        let k = m.products[0].capacity.unwrap();
        assert!((k - (13.0 + scale * (1e6 - 138.0 - 10.0))).abs() < 1e-6);
    }

    #[test]
    fn without_a_marketplace_base_the_price_is_the_static_logit_markup() {
        // Contract pricing: the won compute pays today's price for its whole stay, so the
        // forward-looking factor cancels and (p − c)/p = 1/(β_h (1 − s)) with s the target share.
        let sellers = vec![seller(2.0), seller(2.0)];
        let current = [0.5, 0.5];
        let labs = [LabDemand {
            rented_kgpu: 100.0,
            shares: &current,
        }];
        let m = market(&sellers, &labs, &behaviour());
        let mut single = m.clone();
        single.products[1].owner = 1;
        let eq = bertrand::equilibrium(&single, &[3.0, 3.0], 1.0, 500, &Solver::default());
        assert!(eq.converged);
        let s = eq.shares[0][0];
        assert!(
            (eq.lerner[0] - 1.0 / (3.0 * (1.0 - s))).abs() < 1e-6,
            "{} vs {}",
            eq.lerner[0],
            s
        );
        // A marketplace base on provider 0 raises its price (harvest).
        let mut with_base = sellers.clone();
        with_base[0].marketplace_kgpu = 20.0;
        with_base[0].marketplace_response = (1.4, 1.0);
        let mut mb = market(&with_base, &labs, &behaviour());
        mb.products[1].owner = 1;
        let eb = bertrand::equilibrium(&mb, &[3.0, 3.0], 1.0, 500, &Solver::default());
        assert!(eb.fees[0] > eq.fees[0] + 0.01);
        // Myopic sellers weigh the flow for one month only: the same base raises the price more.
        let myopic = ComputeBehaviour {
            monthly_discount: 0.0,
            ..behaviour()
        };
        let mut mm = market(&with_base, &labs, &myopic);
        mm.products[1].owner = 1;
        let em = bertrand::equilibrium(&mm, &[3.0, 3.0], 1.0, 500, &Solver::default());
        assert!(em.fees[0] > eb.fees[0] + 0.01, "{} vs {}", em.fees[0], eb.fees[0]);
    }

    #[test]
    fn marketplace_response_is_the_logit_response_to_the_resale_price() {
        // One option: P = 4·1.25 + 5 = 10, share 0.2: ε = 1.5·0.8, a = 5/1.25 = 4.
        let (e, a) = marketplace_response(1.5, 4.0, 0.25, &[(10.0, 0.2, 10.0)], 1.0);
        assert!((e - 1.2).abs() < 1e-12 && (a - 4.0).abs() < 1e-12);
        // Then the inference at compute price p is ∝ P_k(p)^(−ε): the resale price's logit response.
        let mut sellers = vec![seller(2.0)];
        sellers[0].price = 4.0;
        sellers[0].marketplace_kgpu = 10.0;
        sellers[0].marketplace_margin = 0.25;
        sellers[0].marketplace_response = (e, a);
        let m = market(&sellers, &[], &behaviour());
        let ratio = m.products[0].installed_at(5.0) / m.products[0].installed_at(4.0);
        assert!((ratio - (11.25f64 / 10.0).powf(-1.2)).abs() < 1e-12);
        // Weighted over options; a myopic seller sees only the choosers' share.
        let (two, _) = marketplace_response(1.5, 4.0, 0.25, &[(10.0, 0.2, 10.0), (30.0, 0.0, 5.0)], 1.0);
        assert!((two - 1.5 * (10.0 * 0.8 + 30.0) / 40.0).abs() < 1e-12);
        assert!((marketplace_response(1.5, 4.0, 0.25, &[(10.0, 0.2, 10.0)], 0.1).0 - 0.12).abs() < 1e-12);
        assert_eq!(marketplace_response(1.5, 4.0, 0.25, &[], 1.0), (0.0, 0.0));
    }

    #[test]
    fn an_elastic_marketplace_base_lowers_the_harvest() {
        let mut sellers = vec![seller(2.0), seller(2.0)];
        sellers[0].marketplace_kgpu = 20.0;
        let current = [0.5, 0.5];
        let labs = [LabDemand {
            rented_kgpu: 100.0,
            shares: &current,
        }];
        let price = |eps: f64| {
            let mut s = sellers.clone();
            s[0].marketplace_response = (eps, 1.0);
            let mut m = market(&s, &labs, &behaviour());
            m.products[1].owner = 1;
            bertrand::equilibrium(&m, &[3.0, 3.0], 1.0, 500, &Solver::default()).fees[0]
        };
        assert!(price(0.6) < price(0.0) - 0.01);
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
