//! Phase 5 — settlement: capacity rationing, enterprise spend, revenue flows and contract
//! payments (credits drawn down, revenue shares paid until their cap).

use bevy_ecs::prelude::*;

use crate::econ::{capacity, pricing, switching};
use crate::sim::components::{LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::resources::{Clock, Contracts, Demand, Holdings, Layout, MarketView, Params, Policy, Settlement};

/// Settles the month: who is served, who pays whom.
#[allow(clippy::too_many_arguments)]
pub fn settle_market(
    params: Res<Params>,
    clock: Res<Clock>,
    layout: Res<Layout>,
    view: Res<MarketView>,
    holdings: Res<Holdings>,
    demand: Res<Demand>,
    regulation: Res<Policy>,
    mut contracts: ResMut<Contracts>,
    mut settlement: ResMut<Settlement>,
    mut providers: Query<(&ProviderIdx, &mut ProviderState)>,
    mut labs: Query<(&LabIdx, &mut LabState)>,
) {
    let cfg = &params.0;
    let (n_p, n_l) = (layout.n_providers(), layout.n_labs());
    let per_size = if holdings.total_size > 0 {
        demand.ai_kgpu / holdings.total_size as f64
    } else {
        0.0
    };
    let slot_demand: Vec<f64> = holdings.option_size.iter().map(|&s| s as f64 * per_size).collect();

    // Lab compute needs this month (direct inference from current holdings).
    let mut lab_total = vec![0.0; n_l];
    let mut lab_training = vec![0.0; n_l];
    let mut lab_own = vec![0.0; n_l];
    let mut lab_rented = vec![0.0; n_l];
    let mut lab_hosts = vec![vec![0.0; n_p]; n_l];
    for (idx, lab) in &labs {
        let l = idx.0;
        if !lab.active {
            continue;
        }
        let inference = slot_demand[layout.slots.direct_slot(l)];
        lab_training[l] = lab.training_kgpu;
        lab_total[l] = lab.training_kgpu + inference;
        lab_own[l] = lab.own_capacity.min(lab_total[l]);
        lab_rented[l] = lab_total[l] - lab_own[l];
        lab_hosts[l].clone_from(&lab.hosts);
    }

    // Demand on each provider and rationing.
    let mut capacity_of = vec![0.0; n_p];
    for (idx, p) in &providers {
        capacity_of[idx.0] = if p.active { p.capacity } else { 0.0 };
    }
    let mut provider_demand = vec![0.0; n_p];
    for p in 0..n_p {
        provider_demand[p] = (0..n_l)
            .map(|l| slot_demand[layout.slots.marketplace_slot(p, l)] + lab_hosts[l][p] * lab_rented[l])
            .sum();
    }
    let served_frac: Vec<f64> = (0..n_p)
        .map(|p| capacity::served_fraction(provider_demand[p], capacity_of[p]))
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
            lab_compute[l][p] = on_hosts[p] + slot_demand[layout.slots.marketplace_slot(p, l)] * served_frac[p];
        }
        lab_compute[l][n_p] = lab_own[l];
    }

    // Enterprise spend and who receives it.
    let mut slot_spend = vec![0.0; layout.slots.n_slots()];
    let mut provider_revenue = vec![0.0; n_p];
    let mut provider_rent = vec![0.0; n_p];
    let mut lab_revenue = vec![0.0; n_l];
    for (slot, spend) in slot_spend.iter_mut().enumerate() {
        if slot_demand[slot] <= 0.0 {
            continue;
        }
        let (channel, l) = layout.slots.split(slot);
        match layout.slots.provider_of_channel(channel) {
            Some(p) => {
                let served = slot_demand[slot] * served_frac[p];
                *spend = pricing::spend_musd(served, view.slot_price[slot]);
                let to_provider =
                    pricing::spend_musd(served, view.price[p] * (1.0 + cfg.providers[p].marketplace_margin));
                provider_rent[p] += to_provider;
                lab_revenue[l] += *spend - to_provider;
            }
            None => {
                *spend = pricing::spend_musd(slot_demand[slot] * lab_served[l], view.slot_price[slot]);
                lab_revenue[l] += *spend;
            }
        }
    }
    // Labs pay their hosts; credits cover what they can; inference bills are enterprise-derived.
    for l in 0..n_l {
        if lab_total[l] <= 0.0 {
            continue;
        }
        let inference_part = 1.0 - lab_training[l] / lab_total[l];
        for p in 0..n_p {
            let bill = pricing::spend_musd(lab_hosts[l][p] * lab_rented[l] * served_frac[p], view.price[p]);
            if bill <= 0.0 {
                continue;
            }
            provider_revenue[p] += bill * (1.0 - inference_part);
            provider_rent[p] += bill * inference_part;
            let mut unpaid = bill;
            for c in contracts
                .0
                .iter_mut()
                .filter(|c| c.lab == l && c.provider == p && c.active(clock.tick))
            {
                let used = c.credits.min(unpaid);
                c.credits -= used;
                unpaid -= used;
            }
        }
    }
    // Revenue shares out of the labs' enterprise-derived revenue.
    let mut lab_net = lab_revenue.clone();
    for c in contracts
        .0
        .iter_mut()
        .filter(|c| c.active(clock.tick) && c.revenue_share > 0.0)
    {
        let mut pay = c.revenue_share * lab_revenue[c.lab];
        if c.revenue_share_cap > 0.0 {
            pay = pay.min((c.revenue_share_cap - c.paid).max(0.0));
        }
        c.paid += pay;
        lab_net[c.lab] -= pay;
        provider_rent[c.provider] += pay;
    }
    // Egress fees of enterprises that left a provider's marketplace: a year of their spend × fee.
    for (slot, &size) in holdings.egress_size.iter().enumerate() {
        let (channel, _) = layout.slots.split(slot);
        if let (Some(p), true) = (layout.slots.provider_of_channel(channel), size > 0) {
            let fee = switching::regulated_egress_fee(cfg.providers[p].egress_fee, regulation.egress_cap);
            provider_revenue[p] += fee * 12.0 * pricing::spend_musd(size as f64 * per_size, view.slot_price[slot]);
        }
    }
    for p in 0..n_p {
        provider_revenue[p] += provider_rent[p];
    }

    let mut provider_served = vec![0.0; n_p];
    for (idx, mut p) in &mut providers {
        let i = idx.0;
        provider_served[i] = provider_demand[i] * served_frac[i];
        if p.capacity > 0.0 {
            p.load = provider_demand[i] / p.capacity;
            p.utilisation = provider_served[i] / p.capacity;
        } else {
            p.load = if provider_demand[i] > 0.0 { 2.0 } else { 0.0 };
            p.utilisation = 0.0;
        }
    }
    for (idx, mut lab) in &mut labs {
        let l = idx.0;
        lab.served_training = lab_training[l] * lab_served[l];
        lab.revenue = lab_net[l];
    }

    *settlement = Settlement {
        slot_spend,
        provider_revenue,
        provider_rent,
        lab_revenue: lab_net,
        lab_compute,
        provider_demand,
        provider_served,
        lab_served_fraction: lab_served,
    };
}
