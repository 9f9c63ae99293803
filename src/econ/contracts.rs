//! Lab–provider contracts as they run: terms, balances, and the rules that read them (when a
//! contract applies, which exclusivity floor and licence exclusivity bind, commitment floors).

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

/// Floors on a lab's share of rented compute per provider this month: for each of its contracts
/// with an available provider, the larger of the exclusivity floor and the commitment floor
/// `commitment / spend(rented at that provider's price)` (at most 1); floors of several
/// contracts with one provider add up. An owned lab also keeps `owner_min_share` on its owner.
#[expect(
    clippy::too_many_arguments,
    reason = "the floors read seven independent inputs of one lab-month"
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
) -> Vec<f64> {
    let mut floors = vec![0.0; available.len()];
    for c in contracts.iter().filter(|c| c.lab == lab && available[c.provider]) {
        let commitment = if c.active(tick) && rented_kgpu > 0.0 {
            c.commitment / super::pricing::spend_musd(rented_kgpu, prices[c.provider])
        } else {
            0.0
        };
        floors[c.provider] += c.floor(tick, regulation).max(commitment.min(1.0));
    }
    if let Some((owner, min_share)) = owner
        && available[owner]
    {
        floors[owner] = floors[owner].max(min_share);
    }
    floors
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

    #[test]
    fn commitment_floors_are_commitment_over_the_spend_of_the_rented_compute() {
        let mut c = contract(1);
        // 100 kGPU at $2/GPU-h cost 146 US$ M a month; a 73 US$ M commitment is half of it.
        c.commitment = 73.0;
        let f = compute_floors(
            &[c.clone()],
            0,
            0,
            &Regulation::default(),
            &[true, true],
            &[4.0, 2.0],
            100.0,
            None,
        );
        assert_eq!(f[0], 0.0);
        assert!((f[1] - 0.5).abs() < 1e-12);
        // A commitment above the whole bill is a floor of 1, and an owner floor is a minimum.
        c.commitment = 1000.0;
        let f = compute_floors(
            &[c],
            0,
            0,
            &Regulation::default(),
            &[true, true],
            &[4.0, 2.0],
            100.0,
            Some((0, 0.8)),
        );
        assert_eq!(f, vec![0.8, 1.0]);
        // Unavailable providers get no floor.
        let f = compute_floors(
            &[],
            0,
            0,
            &Regulation::default(),
            &[false, true],
            &[4.0, 2.0],
            100.0,
            Some((0, 0.8)),
        );
        assert_eq!(f, vec![0.0, 0.0]);
    }
}
