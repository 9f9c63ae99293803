//! Lab–provider contracts as they run: terms, balances, and the rules that read them (when a
//! contract applies, which exclusivity floor and licence exclusivity bind, commitment floors,
//! the default rule for commitments beyond a lab's means).

use super::policy::Regulation;

/// A contract's live terms and balances.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    /// Contract id.
    pub id: String,
    /// Lab index.
    pub lab: usize,
    /// Provider index.
    pub provider: usize,
    /// First tick it applies.
    pub start: i64,
    /// Last tick it applies, if any.
    pub end: Option<i64>,
    /// Unspent compute credits, US$ M.
    pub credits: f64,
    /// Share of lab revenue paid to the provider.
    pub revenue_share: f64,
    /// Cap on revenue-share payments (0 = none), US$ M.
    pub revenue_share_cap: f64,
    /// Revenue share paid so far, US$ M.
    pub paid: f64,
    /// Share of the lab's monthly profit paid to the provider (until the cap is reached).
    pub profit_share: f64,
    /// Cap on profit-share payments ("until the investment is repaid"; 0 = none), US$ M.
    pub profit_share_cap: f64,
    /// Profit share paid so far, US$ M.
    pub profit_paid: f64,
    /// Right of first refusal: the provider may match an outside allocation at the outside price.
    pub rofr: bool,
    /// Exclusivity floor on the provider's share of the lab's rented compute.
    pub min_compute_share: f64,
    /// Last tick of the exclusivity floor, if any.
    pub exclusivity_end: Option<i64>,
    /// Committed compute spend, US$ M per month.
    pub commitment: f64,
    /// Provider may resell the lab's models.
    pub licence: bool,
    /// The licence excludes other marketplaces.
    pub licence_exclusive: bool,
    /// After an AGI declaration: the quality the licence is frozen at.
    pub frozen_quality: Option<f64>,
}

impl Contract {
    /// A new contract between `lab` and `provider` with no terms yet, applying from `start`.
    pub fn empty(id: &str, lab: usize, provider: usize, start: i64) -> Contract {
        Contract {
            id: id.to_string(),
            lab,
            provider,
            start,
            end: None,
            credits: 0.0,
            revenue_share: 0.0,
            revenue_share_cap: 0.0,
            paid: 0.0,
            profit_share: 0.0,
            profit_share_cap: 0.0,
            profit_paid: 0.0,
            rofr: false,
            min_compute_share: 0.0,
            exclusivity_end: None,
            commitment: 0.0,
            licence: false,
            licence_exclusive: false,
            frozen_quality: None,
        }
    }

    /// Whether the contract applies at `tick`.
    pub fn active(&self, tick: u32) -> bool {
        let t = i64::from(tick);
        t >= self.start && self.end.is_none_or(|e| t <= e)
    }

    /// Exclusivity floor binding at `tick` under `reg`.
    pub fn floor(&self, tick: u32, reg: &Regulation) -> f64 {
        let in_window = self.exclusivity_end.is_none_or(|e| i64::from(tick) <= e);
        if self.active(tick) && in_window && !reg.exclusivity_banned {
            self.min_compute_share
        } else {
            0.0
        }
    }

    /// Whether an exclusive licence binds at `tick` under `reg`.
    pub fn exclusive_licence(&self, tick: u32, reg: &Regulation) -> bool {
        self.active(tick) && self.licence && self.licence_exclusive && !reg.exclusivity_banned
    }
}

/// Floors on a lab's share of rented compute per provider this month, in two kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct Floors {
    /// Exclusivity floors (and an owned lab's `owner_min_share` on its owner): at a provider the
    /// largest of its contracts' floors (two "at least x" clauses are met by the larger one).
    pub exclusive: Vec<f64>,
    /// Commitment floors `commitment / spend(rented at that provider's price)`: at a provider
    /// the sum over its contracts (two commitments need both amounts), at most 1.
    pub commitment: Vec<f64>,
}

/// A lab's floors this month (see [`Floors`]). `commitment_scale` multiplies every commitment
/// (1 = as written; below 1 after a renegotiation, [`renegotiation_factor`]). An exclusivity
/// and commitment floor is capped at what the partner can supply the lab,
/// `supply_kgpu[p] / rented_kgpu` (empty: no cap): exclusivity binds "unless the partner lacks
/// capacity", and a provider cannot hold a lab to compute it cannot deliver.
#[expect(
    clippy::too_many_arguments,
    reason = "the floors read nine independent inputs of one lab-month"
)]
pub fn compute_floors(
    contracts: &[Contract],
    lab: usize,
    tick: u32,
    regulation: &Regulation,
    available: &[bool],
    prices: &[f64],
    rented_kgpu: f64,
    owner: Option<(usize, f64)>,
    commitment_scale: f64,
    supply_kgpu: &[f64],
) -> Floors {
    let n = available.len();
    let mut exclusive = vec![0.0_f64; n];
    let mut commitment = vec![0.0_f64; n];
    for c in contracts.iter().filter(|c| c.lab == lab && available[c.provider]) {
        exclusive[c.provider] = exclusive[c.provider].max(c.floor(tick, regulation));
        if c.active(tick) && rented_kgpu > 0.0 {
            commitment[c.provider] +=
                commitment_scale * c.commitment / super::pricing::spend_musd(rented_kgpu, prices[c.provider]);
        }
    }
    if let Some((owner, min_share)) = owner
        && available[owner]
    {
        exclusive[owner] = exclusive[owner].max(min_share);
    }
    for p in 0..n {
        commitment[p] = commitment[p].min(1.0);
        if supply_kgpu.len() == n && rented_kgpu > 0.0 {
            let cap = (supply_kgpu[p] / rented_kgpu).max(0.0);
            exclusive[p] = exclusive[p].min(cap);
            commitment[p] = commitment[p].min(cap);
        }
    }
    Floors { exclusive, commitment }
}

/// Combined floors per provider when exclusivity comes first: exclusivity floors summing above 1
/// are scaled to 1 (contradictory clauses share the lab's compute in proportion); at each
/// provider the floor is `max(exclusive, commitment)`; what commitment floors add beyond
/// exclusivity is scaled down proportionally to fit the room exclusivity leaves. A commitment
/// that does not fit is not forced: it is paid as a take-or-pay shortfall (settlement).
pub fn combined_floors(f: &Floors) -> Vec<f64> {
    let ex_total: f64 = f.exclusive.iter().sum();
    let ex: Vec<f64> = if ex_total > 1.0 {
        f.exclusive.iter().map(|x| x / ex_total).collect()
    } else {
        f.exclusive.clone()
    };
    let extra: Vec<f64> = ex.iter().zip(&f.commitment).map(|(e, c)| (c - e).max(0.0)).collect();
    let extra_total: f64 = extra.iter().sum();
    let room = (1.0 - ex.iter().sum::<f64>()).max(0.0);
    let scale = if extra_total > room { room / extra_total } else { 1.0 };
    ex.iter().zip(&extra).map(|(e, x)| e + x * scale).collect()
}

/// The default rule: commitments active at `tick` beyond the lab's means are renegotiated down
/// pro rata to what it can pay. Returns the factor (< 1) every active commitment of `lab` is
/// multiplied by, or `None` when the commitments fit within `means_musd` (a month's budget,
/// reinvested revenue and credit draw).
pub fn renegotiation_factor(contracts: &[Contract], lab: usize, tick: u32, means_musd: f64) -> Option<f64> {
    let total: f64 = contracts
        .iter()
        .filter(|c| c.lab == lab && c.active(tick))
        .map(|c| c.commitment)
        .sum();
    (total > means_musd && total > 0.0).then(|| (means_musd.max(0.0) / total).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(provider: usize) -> Contract {
        Contract::empty("c", 0, provider, 0)
    }

    #[test]
    fn contracts_apply_within_their_window() {
        let mut c = contract(0);
        c.start = 2;
        c.end = Some(4);
        assert!(!c.active(1) && c.active(2) && c.active(4) && !c.active(5));
    }

    #[test]
    fn exclusivity_binds_in_its_window_unless_banned() {
        let mut c = contract(0);
        c.min_compute_share = 0.6;
        c.exclusivity_end = Some(3);
        let free = Regulation::default();
        assert_eq!(c.floor(3, &free), 0.6);
        assert_eq!(c.floor(4, &free), 0.0);
        let banned = Regulation {
            exclusivity_banned: true,
            ..Regulation::default()
        };
        assert_eq!(c.floor(0, &banned), 0.0);
        c.licence = true;
        c.licence_exclusive = true;
        assert!(c.exclusive_licence(0, &free) && !c.exclusive_licence(0, &banned));
    }

    fn floors(cs: &[Contract], available: &[bool], owner: Option<(usize, f64)>, scale: f64, supply: &[f64]) -> Floors {
        compute_floors(
            cs,
            0,
            0,
            &Regulation::default(),
            available,
            &[4.0, 2.0],
            100.0,
            owner,
            scale,
            supply,
        )
    }

    #[test]
    fn commitment_floors_are_commitment_over_the_spend_of_the_rented_compute() {
        let mut c = contract(1);
        // 100 kGPU at $2/GPU-h cost 146 US$ M a month; a 73 US$ M commitment is half of it.
        c.commitment = 73.0;
        let f = floors(&[c.clone()], &[true, true], None, 1.0, &[]);
        assert_eq!(f.commitment[0], 0.0);
        assert!((f.commitment[1] - 0.5).abs() < 1e-12);
        // Renegotiated to 60 %: the floor is 0.3.
        let f = floors(&[c.clone()], &[true, true], None, 0.6, &[]);
        assert!((f.commitment[1] - 0.3).abs() < 1e-12);
        // A commitment above the whole bill is a floor of 1, and an owner floor is a minimum.
        c.commitment = 1000.0;
        let f = floors(&[c], &[true, true], Some((0, 0.8)), 1.0, &[]);
        assert_eq!(f.exclusive, vec![0.8, 0.0]);
        assert_eq!(f.commitment, vec![0.0, 1.0]);
        // Unavailable providers get no floor.
        let f = floors(&[], &[false, true], Some((0, 0.8)), 1.0, &[]);
        assert_eq!(f.exclusive, vec![0.0, 0.0]);
    }

    #[test]
    fn exclusivity_floors_take_the_max_and_commitments_add_up_at_one_provider() {
        // Two exclusivity clauses of 0.3 and 0.5 at provider 1: "at least 0.5" meets both. Two
        // commitments of 36.5 each (a quarter of 146) need half of the bill together.
        let mut a = contract(1);
        a.min_compute_share = 0.3;
        a.commitment = 36.5;
        let mut b = contract(1);
        b.min_compute_share = 0.5;
        b.commitment = 36.5;
        let f = floors(&[a, b], &[true, true], None, 1.0, &[]);
        assert!((f.exclusive[1] - 0.5).abs() < 1e-12, "max, not the sum 0.8");
        assert!((f.commitment[1] - 0.5).abs() < 1e-12, "sum of the two commitments");
    }

    #[test]
    fn a_partner_short_of_capacity_caps_its_exclusivity_floor() {
        let mut c = contract(0);
        c.min_compute_share = 1.0;
        // The partner can supply 40 of the 100 kGPU rented: the floor is 0.4, not 1.
        let f = floors(&[c.clone()], &[true, true], None, 1.0, &[40.0, 1e9]);
        assert!((f.exclusive[0] - 0.4).abs() < 1e-12);
        // Enough capacity: the floor is as written.
        let f = floors(&[c], &[true, true], None, 1.0, &[400.0, 1e9]);
        assert_eq!(f.exclusive[0], 1.0);
    }

    #[test]
    fn exclusivity_comes_before_commitments_when_floors_overfill() {
        // Exclusivity 1.0 at 0 and a commitment floor 0.5 at 1: all compute goes to 0 (the old
        // rule scaled the sum 1.5 to 1 and gave 0 only 2/3).
        let f = Floors {
            exclusive: vec![1.0, 0.0],
            commitment: vec![0.0, 0.5],
        };
        assert_eq!(combined_floors(&f), vec![1.0, 0.0]);
        // Exclusivity 0.6 at 0; commitments 0.4 at 1 and 0.4 at 2 share the remaining 0.4.
        let f = Floors {
            exclusive: vec![0.6, 0.0, 0.0],
            commitment: vec![0.0, 0.4, 0.4],
        };
        let x = combined_floors(&f);
        assert!((x[0] - 0.6).abs() < 1e-12 && (x[1] - 0.2).abs() < 1e-12 && (x[2] - 0.2).abs() < 1e-12);
        // At one provider the combined floor is max(exclusive, commitment); contradictory
        // exclusivity clauses (0.8 + 0.8) share the compute in proportion.
        let f = Floors {
            exclusive: vec![0.3, 0.8, 0.8],
            commitment: vec![0.5, 0.0, 0.0],
        };
        let x = combined_floors(&f);
        let total = 1.9;
        assert!((x[0] - 0.3 / total).abs() < 1e-12 && (x[1] - 0.8 / total).abs() < 1e-12);
        assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn commitments_beyond_the_means_are_renegotiated_pro_rata() {
        let mut a = contract(0);
        a.commitment = 3000.0;
        let mut b = contract(1);
        b.commitment = 5000.0;
        b.start = 12;
        let cs = [a, b];
        // Before the second starts, 3,000 fits in 3,500 of means.
        assert_eq!(renegotiation_factor(&cs, 0, 0, 3500.0), None);
        // From tick 12, 8,000 against 3,500: each commitment is cut to 3,500 / 8,000 of itself.
        let f = renegotiation_factor(&cs, 0, 12, 3500.0).expect("fires");
        assert!((f - 3500.0 / 8000.0).abs() < 1e-12);
        assert_eq!(renegotiation_factor(&cs, 1, 12, 0.0), None, "another lab's contracts");
    }
}
