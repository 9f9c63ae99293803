//! Settlement of one month: who is served when demand meets capacity, what enterprises pay,
//! and who receives it (marketplaces, labs, hosts, contract partners).
//!
//! Demand on provider p is the marketplace inference of every lab on p plus `x_lp · R_l` of every
//! lab's rented compute. Rationing is proportional, `σ_p = min(1, K_p / demand_p)`. A lab's
//! served fraction is `f_l = (own_l + Σ_p x_lp R_l σ_p) / (T_l + I_l)`. A marketplace slot's
//! spend is `d_k σ_p · 0.73 · P_k`, of which the provider keeps `price_p (1 + margin_p)` per
//! GPU-hour and the lab the fee part; a direct slot's spend `d_k f_l · 0.73 · P_k` goes to the
//! lab. Labs pay hosts `0.73 · p̄_lp` per kGPU served, at their contract price on that host
//! (`econ::allocation::contract_prices`), unspent credits of that host first (at most the draw
//! the lab planned). Credits are an investment paid in kind: credit-paid compute is no cash
//! revenue of the provider and no cash cost of the lab; it is booked in its own pair of
//! counts. A commitment is take-or-pay: the shortfall `commitment − spend requested at that
//! provider` is paid in cash. Revenue shares are paid out of labs' enterprise-derived revenue
//! up to their caps; profit shares out of the month's positive profit (revenue after revenue
//! shares, less compute bills, credits used and shortfalls) up to theirs. Egress fees
//! are paid by the enterprises that left a marketplace (a year of the spend they moved × the
//! fee) and received by that provider.
//!
//! Money adds up: [`Flows::enterprise_payments`] (what enterprises pay, counted from the buyers'
//! side) equals [`Flows::enterprise_receipts`] (what providers and labs receive from
//! enterprises, counted from the sellers' side), and what labs pay hosts and partners equals
//! what providers receive from labs (host bills in cash, take-or-pay shortfalls, revenue and
//! profit shares), and the credits labs draw equal the credits redeemed at providers (counted
//! from the balances). [`Flows::imbalance`] is checked every tick.

use super::capacity::served_fraction;
use super::contracts::Contract;
use super::pricing::spend_musd;
use super::slots::SlotLayout;

/// A lab's compute needs this month.
#[derive(Debug, Clone, PartialEq)]
pub struct LabNeeds {
    /// Whether the lab operates.
    pub active: bool,
    /// Training compute demanded, kGPU.
    pub training_kgpu: f64,
    /// Own data-centre capacity, kGPU.
    pub own_capacity_kgpu: f64,
    /// Share of rented compute on each provider.
    pub hosts: Vec<f64>,
    /// Contract price the lab pays on each provider, US$/GPU-hour (empty: the provider's price).
    pub host_prices: Vec<f64>,
    /// Most credits the lab draws on each provider this month, US$ M (empty: its whole balance).
    pub credit_limit: Vec<f64>,
    /// Commitment excused on each provider because it could not supply it, US$ M (empty: none).
    pub excused: Vec<f64>,
}

/// What settlement reads.
#[derive(Debug, Clone)]
pub struct SettlementInputs<'a> {
    /// Slot layout.
    pub slots: SlotLayout,
    /// Enterprise inference demand per slot, kGPU.
    pub slot_demand: &'a [f64],
    /// Price per slot, US$ per GPU-hour.
    pub slot_price: &'a [f64],
    /// Compute price per provider, US$ per GPU-hour.
    pub provider_price: &'a [f64],
    /// Marketplace margin per provider.
    pub provider_margin: &'a [f64],
    /// Capacity in service per provider (0 for providers not operating), kGPU.
    pub provider_capacity: &'a [f64],
    /// Egress fee per provider after regulation (fraction of annual spend).
    pub egress_fee: &'a [f64],
    /// Inference demand of enterprises that left each slot for another channel, kGPU.
    pub egress_kgpu: &'a [f64],
    /// Every lab's needs.
    pub labs: &'a [LabNeeds],
    /// Current tick (which contracts apply).
    pub tick: u32,
}

/// Money and compute flows of one month.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flows {
    /// Enterprise AI spend per slot, US$ M.
    pub slot_spend: Vec<f64>,
    /// Enterprise AI inference served per slot, kGPU.
    pub slot_kgpu: Vec<f64>,
    /// Total provider revenue, US$ M.
    pub provider_revenue: Vec<f64>,
    /// Provider revenue derived from enterprise AI spend (the "toll"), US$ M.
    pub provider_rent: Vec<f64>,
    /// Enterprise-derived lab revenue after revenue shares, US$ M.
    pub lab_revenue: Vec<f64>,
    /// Compute served per (lab, host): hosts are providers then the lab's own DCs, kGPU.
    pub lab_compute: Vec<Vec<f64>>,
    /// Demand on each provider, kGPU.
    pub provider_demand: Vec<f64>,
    /// Served compute on each provider, kGPU.
    pub provider_served: Vec<f64>,
    /// Fraction of each lab's compute demand that was served.
    pub lab_served_fraction: Vec<f64>,
    /// Training compute served per lab, kGPU.
    pub served_training: Vec<f64>,
    /// Egress fees paid by enterprises leaving each provider's marketplace, US$ M.
    pub egress_paid: Vec<f64>,
    /// What each lab pays its hosts in cash: served compute not paid by credits, plus
    /// take-or-pay shortfalls, US$ M.
    pub lab_host_bills: Vec<f64>,
    /// Credits each lab drew to pay for served compute, from the labs' side, US$ M.
    pub lab_credits_used: Vec<f64>,
    /// Take-or-pay shortfall each lab paid (included in `lab_host_bills`), US$ M.
    pub lab_take_or_pay: Vec<f64>,
    /// What each lab pays partners as revenue shares, US$ M.
    pub lab_revenue_shares: Vec<f64>,
    /// What each lab pays partners as profit shares, US$ M.
    pub lab_profit_shares: Vec<f64>,
    /// Credits redeemed at each provider (the fall of its contracts' balances), US$ M.
    pub provider_credits_redeemed: Vec<f64>,
    /// What enterprises pay this month (AI spend plus egress), from the buyers' side, US$ M.
    pub enterprise_payments: f64,
    /// What providers and labs receive from enterprises, from the sellers' side, US$ M.
    pub enterprise_receipts: f64,
    /// What labs pay providers (host bills, revenue shares), from the labs' side, US$ M.
    pub lab_payments: f64,
    /// What providers receive from labs, from the providers' side, US$ M.
    pub provider_lab_receipts: f64,
}

impl Flows {
    /// Largest relative gap of the two money identities (0 when money adds up).
    pub fn imbalance(&self) -> f64 {
        let gap = |a: f64, b: f64| (a - b).abs() / a.abs().max(b.abs()).max(1.0);
        let credits_drawn: f64 = self.lab_credits_used.iter().sum();
        let credits_redeemed: f64 = self.provider_credits_redeemed.iter().sum();
        gap(self.enterprise_payments, self.enterprise_receipts)
            .max(gap(self.lab_payments, self.provider_lab_receipts))
            .max(gap(credits_drawn, credits_redeemed))
    }
}

/// Settles the month; draws down credits and records revenue-share payments in `contracts`.
pub fn settle(input: &SettlementInputs, contracts: &mut [Contract]) -> Flows {
    let slots = input.slots;
    let (n_p, n_l) = (slots.n_providers, slots.n_labs);
    let slot_demand = input.slot_demand;

    // Lab compute needs this month (direct inference from current holdings).
    let mut lab_total = vec![0.0; n_l];
    let mut lab_training = vec![0.0; n_l];
    let mut lab_own = vec![0.0; n_l];
    let mut lab_rented = vec![0.0; n_l];
    let mut lab_hosts = vec![vec![0.0; n_p]; n_l];
    for (l, lab) in input.labs.iter().enumerate() {
        if !lab.active {
            continue;
        }
        let inference = slot_demand[slots.direct_slot(l)];
        lab_training[l] = lab.training_kgpu;
        lab_total[l] = lab.training_kgpu + inference;
        lab_own[l] = lab.own_capacity_kgpu.min(lab_total[l]);
        lab_rented[l] = lab_total[l] - lab_own[l];
        lab_hosts[l].clone_from(&lab.hosts);
    }

    // Demand on each provider and rationing.
    let provider_demand: Vec<f64> = (0..n_p)
        .map(|p| {
            (0..n_l)
                .map(|l| slot_demand[slots.marketplace_slot(p, l)] + lab_hosts[l][p] * lab_rented[l])
                .sum()
        })
        .collect();
    let served_frac: Vec<f64> = (0..n_p)
        .map(|p| served_fraction(provider_demand[p], input.provider_capacity[p]))
        .collect();

    let mut lab_compute = vec![vec![0.0; n_p + 1]; n_l];
    let mut lab_served = vec![1.0; n_l];
    for l in 0..n_l {
        let on_hosts: Vec<f64> = (0..n_p)
            .map(|p| lab_hosts[l][p] * lab_rented[l] * served_frac[p])
            .collect();
        let served = lab_own[l] + on_hosts.iter().sum::<f64>();
        if lab_total[l] > 0.0 {
            lab_served[l] = served / lab_total[l];
        }
        for p in 0..n_p {
            lab_compute[l][p] = on_hosts[p] + slot_demand[slots.marketplace_slot(p, l)] * served_frac[p];
        }
        lab_compute[l][n_p] = lab_own[l];
    }

    // Enterprise spend and who receives it.
    let mut slot_spend = vec![0.0; slots.n_slots()];
    let mut slot_kgpu = vec![0.0; slots.n_slots()];
    let mut provider_revenue = vec![0.0; n_p];
    let mut provider_rent = vec![0.0; n_p];
    let mut lab_revenue = vec![0.0; n_l];
    // Providers' receipts by source: from enterprises (marketplace share, egress) and from labs.
    let mut from_enterprises = vec![0.0; n_p];
    let mut from_labs = vec![0.0; n_p];
    let mut lab_payments = 0.0;
    let mut lab_host_bills = vec![0.0; n_l];
    let mut lab_revenue_shares = vec![0.0; n_l];
    for (slot, spend) in slot_spend.iter_mut().enumerate() {
        if slot_demand[slot] <= 0.0 {
            continue;
        }
        let (channel, l) = slots.split(slot);
        match slots.provider_of_channel(channel) {
            Some(p) => {
                let served = slot_demand[slot] * served_frac[p];
                slot_kgpu[slot] = served;
                *spend = spend_musd(served, input.slot_price[slot]);
                let to_provider = spend_musd(served, input.provider_price[p] * (1.0 + input.provider_margin[p]));
                provider_rent[p] += to_provider;
                from_enterprises[p] += to_provider;
                lab_revenue[l] += *spend - to_provider;
            }
            None => {
                slot_kgpu[slot] = slot_demand[slot] * lab_served[l];
                *spend = spend_musd(slot_kgpu[slot], input.slot_price[slot]);
                lab_revenue[l] += *spend;
            }
        }
    }
    // Credit balances per provider before the month, to count redemptions from the sellers' side.
    let credit_balance = |cs: &[Contract]| -> Vec<f64> {
        let mut b = vec![0.0; n_p];
        for c in cs {
            b[c.provider] += c.credits;
        }
        b
    };
    let credits_before = credit_balance(contracts);
    let mut lab_credits_used = vec![0.0; n_l];
    let mut lab_take_or_pay = vec![0.0; n_l];
    // Labs pay their hosts; credits cover what they can; inference bills are enterprise-derived.
    for l in 0..n_l {
        if lab_total[l] <= 0.0 {
            continue;
        }
        let inference_part = 1.0 - lab_training[l] / lab_total[l];
        for p in 0..n_p {
            let price = input.labs[l]
                .host_prices
                .get(p)
                .copied()
                .unwrap_or(input.provider_price[p]);
            let bill = spend_musd(lab_hosts[l][p] * lab_rented[l] * served_frac[p], price);
            if bill <= 0.0 {
                continue;
            }
            let mut unpaid = bill;
            let mut allowance = input.labs[l].credit_limit.get(p).copied().unwrap_or(f64::INFINITY);
            for c in contracts
                .iter_mut()
                .filter(|c| c.lab == l && c.provider == p && c.active(input.tick))
            {
                let used = c.credits.min(unpaid).min(allowance).max(0.0);
                c.credits -= used;
                unpaid -= used;
                allowance -= used;
                lab_credits_used[l] += used;
            }
            let cash = unpaid;
            provider_revenue[p] += cash * (1.0 - inference_part);
            provider_rent[p] += cash * inference_part;
            from_labs[p] += cash;
            lab_payments += cash;
            lab_host_bills[l] += cash;
        }
    }
    // Take-or-pay: a commitment not met by the spend the lab requested at that provider (credits
    // included; compute the provider could not deliver counts as requested, and the part of a
    // commitment beyond what the provider could supply is excused) is paid in cash.
    for l in 0..n_l {
        for p in 0..n_p {
            let committed: f64 = contracts
                .iter()
                .filter(|c| c.lab == l && c.provider == p && c.active(input.tick))
                .map(|c| c.commitment)
                .sum();
            if committed <= 0.0 || !input.labs[l].active {
                continue;
            }
            let price = input.labs[l]
                .host_prices
                .get(p)
                .copied()
                .unwrap_or(input.provider_price[p]);
            let requested = spend_musd(lab_hosts[l][p] * lab_rented[l], price);
            let excused = input.labs[l].excused.get(p).copied().unwrap_or(0.0);
            let shortfall = (committed - excused - requested).max(0.0);
            if shortfall > 0.0 {
                provider_revenue[p] += shortfall;
                from_labs[p] += shortfall;
                lab_payments += shortfall;
                lab_host_bills[l] += shortfall;
                lab_take_or_pay[l] += shortfall;
            }
        }
    }
    let credits_after = credit_balance(contracts);
    let provider_credits_redeemed: Vec<f64> = (0..n_p).map(|p| credits_before[p] - credits_after[p]).collect();
    // Revenue shares out of the labs' enterprise-derived revenue.
    let lab_gross: f64 = lab_revenue.iter().sum();
    let mut lab_net = lab_revenue.clone();
    for c in contracts
        .iter_mut()
        .filter(|c| c.active(input.tick) && c.revenue_share > 0.0)
    {
        let mut pay = c.revenue_share * lab_revenue[c.lab];
        if c.revenue_share_cap > 0.0 {
            pay = pay.min((c.revenue_share_cap - c.paid).max(0.0));
        }
        c.paid += pay;
        lab_net[c.lab] -= pay;
        provider_rent[c.provider] += pay;
        from_labs[c.provider] += pay;
        lab_payments += pay;
        lab_revenue_shares[c.lab] += pay;
    }
    // Profit shares out of the month's profit after revenue shares, compute bills (cash and
    // credits) and shortfalls, until their caps are reached.
    let profit: Vec<f64> = (0..n_l)
        .map(|l| lab_net[l] - lab_host_bills[l] - lab_credits_used[l])
        .collect();
    let mut lab_profit_shares = vec![0.0; n_l];
    for c in contracts
        .iter_mut()
        .filter(|c| c.active(input.tick) && c.profit_share > 0.0)
    {
        let mut pay = c.profit_share * profit[c.lab].max(0.0);
        if c.profit_share_cap > 0.0 {
            pay = pay.min((c.profit_share_cap - c.profit_paid).max(0.0));
        }
        if pay <= 0.0 {
            continue;
        }
        c.profit_paid += pay;
        lab_net[c.lab] -= pay;
        provider_rent[c.provider] += pay;
        from_labs[c.provider] += pay;
        lab_payments += pay;
        lab_profit_shares[c.lab] += pay;
    }
    // Egress fees of enterprises that left a provider's marketplace: a year of their spend × fee,
    // paid by the leavers.
    let mut egress_paid = vec![0.0; n_p];
    for (slot, &kgpu) in input.egress_kgpu.iter().enumerate() {
        let (channel, _) = slots.split(slot);
        if let (Some(p), true) = (slots.provider_of_channel(channel), kgpu > 0.0) {
            let fee = input.egress_fee[p] * 12.0 * spend_musd(kgpu, input.slot_price[slot]);
            egress_paid[p] += fee;
            provider_revenue[p] += fee;
            from_enterprises[p] += fee;
        }
    }
    for p in 0..n_p {
        provider_revenue[p] += provider_rent[p];
    }
    // Sellers' side: a provider's revenue less what labs paid it is what enterprises paid it.
    let provider_from_enterprises: f64 = (0..n_p).map(|p| provider_revenue[p] - from_labs[p]).sum();
    debug_assert!(
        (provider_from_enterprises - from_enterprises.iter().sum::<f64>()).abs()
            <= 1e-9 * provider_from_enterprises.abs().max(1.0)
    );
    let enterprise_payments = slot_spend.iter().sum::<f64>() + egress_paid.iter().sum::<f64>();
    let provider_served = (0..n_p).map(|p| provider_demand[p] * served_frac[p]).collect();
    let served_training = (0..n_l).map(|l| lab_training[l] * lab_served[l]).collect();
    Flows {
        slot_spend,
        slot_kgpu,
        provider_revenue,
        provider_rent,
        lab_revenue: lab_net,
        lab_compute,
        provider_demand,
        provider_served,
        lab_served_fraction: lab_served,
        served_training,
        egress_paid,
        lab_host_bills,
        lab_credits_used,
        lab_take_or_pay,
        lab_revenue_shares,
        lab_profit_shares,
        provider_credits_redeemed,
        enterprise_payments,
        enterprise_receipts: provider_from_enterprises + lab_gross,
        lab_payments,
        provider_lab_receipts: from_labs.iter().sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One provider, one lab with a direct API: slots 0 (marketplace) and 1 (direct).
    fn one_by_one(capacity: f64, demand: [f64; 2], training: f64) -> (Vec<f64>, Vec<LabNeeds>, f64) {
        let labs = vec![LabNeeds {
            active: true,
            training_kgpu: training,
            own_capacity_kgpu: 0.0,
            hosts: vec![1.0],
            host_prices: Vec::new(),
            credit_limit: Vec::new(),
            excused: Vec::new(),
        }];
        (demand.to_vec(), labs, capacity)
    }

    fn inputs<'a>(
        slot_demand: &'a [f64],
        labs: &'a [LabNeeds],
        capacity: &'a [f64],
        egress: &'a [f64],
    ) -> SettlementInputs<'a> {
        SettlementInputs {
            slots: SlotLayout {
                n_providers: 1,
                n_labs: 1,
            },
            slot_demand,
            slot_price: &[7.0, 6.0],
            provider_price: &[4.0],
            provider_margin: &[0.25],
            provider_capacity: capacity,
            egress_fee: &[0.05],
            egress_kgpu: egress,
            labs,
            tick: 0,
        }
    }

    #[test]
    fn marketplace_and_direct_spend_split_between_provider_and_lab() {
        let (d, labs, _) = one_by_one(1000.0, [10.0, 20.0], 50.0);
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut []);
        let market = spend_musd(10.0, 7.0);
        let direct = spend_musd(20.0, 6.0);
        assert!((f.slot_spend[0] - market).abs() < 1e-9 && (f.slot_spend[1] - direct).abs() < 1e-9);
        let to_provider = spend_musd(10.0, 4.0 * 1.25);
        // The lab rents 50 training + 20 inference kGPU from the provider at $4.
        let bill = spend_musd(70.0, 4.0);
        let inference_part = 20.0 / 70.0;
        assert!((f.provider_rent[0] - (to_provider + bill * inference_part)).abs() < 1e-9);
        assert!((f.provider_revenue[0] - (to_provider + bill)).abs() < 1e-9);
        assert!((f.lab_revenue[0] - (market - to_provider + direct)).abs() < 1e-9);
        assert_eq!(f.lab_served_fraction, vec![1.0]);
    }

    #[test]
    fn scarce_capacity_rations_proportionally_and_serves_at_most_capacity() {
        let (d, labs, _) = one_by_one(40.0, [10.0, 20.0], 50.0);
        let f = settle(&inputs(&d, &labs, &[40.0], &[0.0, 0.0]), &mut []);
        assert!((f.provider_demand[0] - 80.0).abs() < 1e-12);
        assert!((f.provider_served[0] - 40.0).abs() < 1e-12);
        assert!((f.lab_served_fraction[0] - 0.5).abs() < 1e-12);
        assert!((f.served_training[0] - 25.0).abs() < 1e-12);
    }

    #[test]
    fn credits_pay_bills_and_revenue_shares_stop_at_their_cap() {
        let (d, labs, _) = one_by_one(1000.0, [0.0, 20.0], 0.0);
        let mut c = Contract::empty("c", 0, 0, 0);
        c.credits = 10.0;
        c.revenue_share = 0.5;
        c.revenue_share_cap = 5.0;
        let mut cs = [c];
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        assert_eq!(
            cs[0].credits,
            0.0,
            "a bill of {} uses all credits",
            spend_musd(20.0, 4.0)
        );
        assert_eq!(cs[0].paid, 5.0);
        assert!((f.lab_revenue[0] - (spend_musd(20.0, 6.0) - 5.0)).abs() < 1e-9);
    }

    #[test]
    fn credit_paid_compute_is_in_kind_no_cash_for_either_side() {
        // 20 kGPU of direct inference at $4 is a bill of 58.4; 10 of credits pay part of it.
        let (d, labs, _) = one_by_one(1000.0, [0.0, 20.0], 0.0);
        let mut c = Contract::empty("c", 0, 0, 0);
        c.credits = 10.0;
        let mut cs = [c];
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        let bill = spend_musd(20.0, 4.0);
        assert!(
            (f.lab_host_bills[0] - (bill - 10.0)).abs() < 1e-9,
            "the lab pays cash only beyond its credits"
        );
        assert!(
            (f.provider_revenue[0] - (bill - 10.0)).abs() < 1e-9,
            "the provider books no cash for them"
        );
        assert_eq!(f.lab_credits_used, vec![10.0]);
        assert_eq!(f.provider_credits_redeemed, vec![10.0]);
        assert!(f.imbalance() < 1e-12);
        // A planned draw of 4 caps what settlement takes from the balance.
        let (d, mut labs, _) = one_by_one(1000.0, [0.0, 20.0], 0.0);
        labs[0].credit_limit = vec![4.0];
        let mut c = Contract::empty("c", 0, 0, 0);
        c.credits = 10.0;
        let mut cs = [c];
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        assert_eq!(cs[0].credits, 6.0);
        assert!((f.lab_host_bills[0] - (bill - 4.0)).abs() < 1e-9);
        // Credits drawn that no provider redeemed would be an imbalance.
        let mut broken = f.clone();
        broken.lab_credits_used[0] += 1.0;
        assert!(broken.imbalance() > 1e-3);
    }

    #[test]
    fn a_commitments_shortfall_is_paid_take_or_pay() {
        // The lab requests 20 kGPU at $4 = 58.4 against a commitment of 100: it pays 41.6 more.
        let (d, labs, _) = one_by_one(1000.0, [0.0, 20.0], 0.0);
        let mut c = Contract::empty("c", 0, 0, 0);
        c.commitment = 100.0;
        let mut cs = [c];
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        let bill = spend_musd(20.0, 4.0);
        assert!((f.lab_take_or_pay[0] - (100.0 - bill)).abs() < 1e-9);
        assert!(
            (f.lab_host_bills[0] - 100.0).abs() < 1e-9,
            "bill plus shortfall = the commitment"
        );
        assert!((f.provider_revenue[0] - 100.0).abs() < 1e-9);
        assert!(f.imbalance() < 1e-12);
        // Rationing does not raise the shortfall: compute the provider could not deliver counts.
        let f = settle(&inputs(&d, &labs, &[10.0], &[0.0, 0.0]), &mut cs);
        assert!((f.lab_take_or_pay[0] - (100.0 - bill)).abs() < 1e-9);
        // A commitment below the spend costs nothing extra.
        cs[0].commitment = 50.0;
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        assert_eq!(f.lab_take_or_pay[0], 0.0);
    }

    #[test]
    fn the_profit_share_is_paid_out_of_profit_until_its_cap() {
        // Revenue 20 kGPU at $6 = 87.6, bill 58.4: profit 29.2; half of it is 14.6, capped at 10.
        let (d, labs, _) = one_by_one(1000.0, [0.0, 20.0], 0.0);
        let mut c = Contract::empty("c", 0, 0, 0);
        c.profit_share = 0.5;
        c.profit_share_cap = 10.0;
        let mut cs = [c];
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        let profit = spend_musd(20.0, 6.0) - spend_musd(20.0, 4.0);
        assert!(0.5 * profit > 10.0);
        assert_eq!(f.lab_profit_shares[0], 10.0);
        assert!((f.lab_revenue[0] - (spend_musd(20.0, 6.0) - 10.0)).abs() < 1e-9);
        assert!(f.imbalance() < 1e-12);
        // The investment is repaid: nothing more.
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        assert_eq!(f.lab_profit_shares[0], 0.0);
        // A loss pays no profit share: a commitment of 200 turns the profit negative.
        let mut c = Contract::empty("c", 0, 0, 0);
        c.profit_share = 0.5;
        c.commitment = 200.0;
        let mut cs = [c];
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        assert_eq!(f.lab_profit_shares[0], 0.0);
        // Uncapped, the share is exactly half the profit.
        let mut c = Contract::empty("c", 0, 0, 0);
        c.profit_share = 0.5;
        let mut cs = [c];
        let f = settle(&inputs(&d, &labs, &[1000.0], &[0.0, 0.0]), &mut cs);
        assert!((f.lab_profit_shares[0] - 0.5 * profit).abs() < 1e-9);
    }

    #[test]
    fn leavers_pay_egress_to_the_marketplace_they_left() {
        let (d, labs, _) = one_by_one(1000.0, [0.0, 0.0], 0.0);
        let f = settle(&inputs(&d, &labs, &[1000.0], &[2.0, 0.0]), &mut []);
        let fee = 0.05 * 12.0 * spend_musd(2.0, 7.0);
        assert!((f.provider_revenue[0] - fee).abs() < 1e-9);
        // The fee is paid by the leavers: it is part of what enterprises pay.
        assert!((f.egress_paid[0] - fee).abs() < 1e-12);
        assert!((f.enterprise_payments - fee).abs() < 1e-12);
        assert!(f.imbalance() < 1e-12);
    }

    #[test]
    fn money_adds_up_with_rationing_credits_and_revenue_shares() {
        let (d, labs, _) = one_by_one(60.0, [10.0, 20.0], 50.0);
        let mut c = Contract::empty("c", 0, 0, 0);
        c.credits = 3.0;
        c.revenue_share = 0.2;
        let mut cs = [c];
        let f = settle(&inputs(&d, &labs, &[60.0], &[1.5, 0.0]), &mut cs);
        // Buyers' side, independently: served marketplace and direct spend plus egress.
        let served = 60.0 / 80.0;
        let lab_served = (50.0 + 20.0) * served / 70.0;
        let paid =
            spend_musd(10.0 * served, 7.0) + spend_musd(20.0 * lab_served, 6.0) + 0.05 * 12.0 * spend_musd(1.5, 7.0);
        assert!((f.enterprise_payments - paid).abs() < 1e-9);
        assert!(f.imbalance() < 1e-12, "imbalance {}", f.imbalance());
        // Sellers' totals: providers' revenue less what labs paid them, plus the labs' revenue
        // before the revenue share they paid out, is exactly what enterprises paid.
        let sellers = f.provider_revenue[0] - f.lab_payments + f.lab_revenue[0] + cs[0].paid;
        assert!((sellers - paid).abs() < 1e-9, "{sellers} ≠ {paid}");
    }

    #[test]
    fn an_egress_credit_without_its_debit_is_an_imbalance() {
        // The first version's defect: fees credited to the provider but paid by nobody.
        let (d, labs, _) = one_by_one(1000.0, [0.0, 0.0], 0.0);
        let mut f = settle(&inputs(&d, &labs, &[1000.0], &[2.0, 0.0]), &mut []);
        f.enterprise_payments -= f.egress_paid[0];
        assert!(f.imbalance() > 1e-3);
    }
}
