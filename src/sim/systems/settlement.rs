//! Phase 5 — settlement: reads this month's holdings, prices and lab plans, calls
//! `econ::settlement::settle`, and writes loads, served training, lab revenue and the flows.

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

use crate::econ::settlement::{self, LabNeeds, SettlementInputs};
use crate::econ::switching;
use crate::sim::agents::{LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::resources::{Clock, Contracts, Demand, Holdings, Layout, MarketView, Params, Policy, Settlement};

/// What settlement reads besides the agents.
#[derive(SystemParam)]
pub struct SettleContext<'w> {
    params: Res<'w, Params>,
    clock: Res<'w, Clock>,
    layout: Res<'w, Layout>,
    view: Res<'w, MarketView>,
    holdings: Res<'w, Holdings>,
    demand: Res<'w, Demand>,
    regulation: Res<'w, Policy>,
}

/// Settles the month: who is served, who pays whom.
pub fn settle_market(
    cx: SettleContext,
    mut fault: ResMut<crate::sim::resources::Fault>,
    mut contracts: ResMut<Contracts>,
    mut settlement: ResMut<Settlement>,
    mut providers: Query<(&ProviderIdx, &mut ProviderState)>,
    mut labs: Query<(&LabIdx, &mut LabState)>,
) {
    let cfg = &cx.params.0;
    let slots = cx.layout.slots;
    let (n_p, n_l) = (slots.n_providers, slots.n_labs);
    let holdings = &cx.holdings;
    let per_unit = cx.demand.ai_kgpu_per_unit;
    let slot_demand: Vec<f64> = holdings.ai[..slots.n_slots()]
        .iter()
        .map(|&s| s as f64 * per_unit)
        .collect();
    let egress_kgpu: Vec<f64> = holdings.month.egress.iter().map(|&s| s as f64 * per_unit).collect();

    let mut needs = vec![
        LabNeeds {
            active: false,
            training_kgpu: 0.0,
            own_capacity_kgpu: 0.0,
            hosts: Vec::new(),
            host_prices: Vec::new(),
            credit_limit: Vec::new(),
            excused: Vec::new(),
        };
        n_l
    ];
    for (idx, lab) in &labs {
        needs[idx.0] = LabNeeds {
            active: lab.active,
            training_kgpu: lab.training_kgpu,
            own_capacity_kgpu: lab.own_capacity,
            hosts: lab.hosts.clone(),
            host_prices: lab.contract_prices.clone(),
            credit_limit: lab.credit_draw.clone(),
            excused: lab.excused.clone(),
        };
    }
    let mut capacity = vec![0.0; n_p];
    for (idx, p) in &providers {
        capacity[idx.0] = if p.active { p.capacity } else { 0.0 };
    }
    // This month's margins as published with the offer (configured or set by the owners).
    let margin = &cx.view.marketplace_margin;
    let egress_fee: Vec<f64> = cfg
        .providers
        .values()
        .map(|p| switching::regulated_egress_fee(p.egress_fee, cx.regulation.egress_cap))
        .collect();
    let flows = settlement::settle(
        &SettlementInputs {
            slots,
            slot_demand: &slot_demand,
            slot_price: &cx.view.slot_price,
            provider_price: &cx.view.price,
            provider_margin: margin,
            provider_capacity: &capacity,
            egress_fee: &egress_fee,
            egress_kgpu: &egress_kgpu,
            labs: &needs,
            tick: cx.clock.tick,
        },
        &mut contracts.0,
    );

    // Money adds up: checked every tick, a run whose books do not balance fails.
    if fault.0.is_none() && flows.imbalance() > 1e-9 {
        fault.0 = Some(format!(
            "money does not add up at {}: enterprises paid {:.6} US$ M, sellers received {:.6}; labs paid {:.6}, providers received {:.6}",
            cx.clock.month(),
            flows.enterprise_payments,
            flows.enterprise_receipts,
            flows.lab_payments,
            flows.provider_lab_receipts
        ));
    }
    for (idx, mut p) in &mut providers {
        let i = idx.0;
        let demand = flows.provider_demand[i];
        if p.capacity > 0.0 {
            p.load = demand / p.capacity;
            p.utilisation = flows.provider_served[i] / p.capacity;
        } else {
            p.load = if demand > 0.0 { 2.0 } else { 0.0 };
            p.utilisation = 0.0;
        }
    }
    for (idx, mut lab) in &mut labs {
        let l = idx.0;
        lab.served_training = flows.served_training[l];
        lab.revenue = flows.lab_revenue[l];
        if lab.active {
            // The lab's P&L (`econ::finance`): this month's budget spends the funding flow and
            // part of the cash; revenue comes in, cash bills go out.
            lab.cash =
                crate::econ::finance::next_cash(lab.cash, lab.budget, flows.lab_revenue[l], flows.lab_host_bills[l]);
        }
    }
    *settlement = Settlement(flows);
}
