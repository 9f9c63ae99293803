//! Phase 2 — labs: model quality from last month's training, compute demand, and the hosting
//! allocation across providers (`econ::quality`, `econ::allocation::plan_compute`).

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

use crate::econ::allocation::{self, AllocationWeights, PlanBehaviour, PlanInputs};
use crate::econ::quality;
use crate::sim::agents::{LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::events::{EventLog, FiredEvent};
use crate::sim::resources::{Clock, Contracts, Demand, Holdings, Layout, MarketView, Params, Policy, Settlement};

/// Quality follows the effective training-compute stock served last month.
pub fn update_lab_quality(params: Res<Params>, mut labs: Query<&mut LabState>) {
    let depreciation = params.0.lab_behaviour.stock_depreciation;
    for mut lab in &mut labs {
        if !lab.active {
            continue;
        }
        lab.stock = quality::next_stock(lab.stock, depreciation, lab.served_training, lab.efficiency);
        lab.quality = quality::quality(lab.stock);
    }
}

/// What `plan_lab_compute` reads besides the labs.
#[derive(SystemParam)]
pub struct PlanContext<'w> {
    params: Res<'w, Params>,
    clock: Res<'w, Clock>,
    layout: Res<'w, Layout>,
    market: Res<'w, MarketView>,
    contracts: ResMut<'w, Contracts>,
    log: ResMut<'w, EventLog>,
    settlement: Res<'w, Settlement>,
    regulation: Res<'w, Policy>,
    holdings: Res<'w, Holdings>,
    demand: Res<'w, Demand>,
}

/// Each lab sizes its training and direct-API inference demand and spreads the rented part
/// across providers. Commitments beyond a lab's means are renegotiated down (the default rule,
/// `econ::contracts::renegotiation_factor`): the change is permanent and recorded in the event log.
pub fn plan_lab_compute(
    mut cx: PlanContext,
    providers: Query<(&ProviderIdx, &ProviderState)>,
    mut labs: Query<(&LabIdx, &mut LabState)>,
) {
    let n_p = cx.layout.providers.len();
    let mut capacity = vec![0.0; n_p];
    let mut unit_cost = vec![0.0; n_p];
    for (idx, p) in &providers {
        capacity[idx.0] = if p.active { p.capacity } else { 0.0 };
        unit_cost[idx.0] = p.unit_cost;
    }
    let mut renegotiated: Vec<(usize, f64)> = Vec::new();
    let cfg = &cx.params.0;
    let b = &cfg.lab_behaviour;
    let behaviour = PlanBehaviour {
        weights: AllocationWeights {
            price_weight: b.host_price_weight,
            free_capacity_weight: b.free_capacity_weight,
            dependency_aversion: b.dependency_aversion,
        },
        allocation_speed: b.allocation_speed,
        reinvest_share: b.reinvest_share,
        owner_min_share: b.owner_min_share,
        move_penalty: b.move_penalty,
        credit_draw_months: b.credit_draw_months,
    };
    for (idx, mut lab) in &mut labs {
        let l = idx.0;
        if !lab.active {
            continue;
        }
        lab.inference_kgpu = cx.holdings.ai[cx.layout.slots.direct_slot(l)] as f64 * cx.demand.ai_kgpu_per_unit;
        let configured = &cfg.labs[l].initial_hosts;
        let initial_hosts: Vec<f64> = if configured.is_empty() {
            Vec::new()
        } else {
            cx.layout
                .providers
                .iter()
                .map(|p| configured.get(p).copied().unwrap_or(0.0))
                .collect()
        };
        let plan = allocation::plan_compute(&PlanInputs {
            lab: l,
            tick: cx.clock.tick,
            budget_musd: crate::econ::finance::budget(lab.budget, lab.cash, b.cash_runway_months),
            revenue_musd: lab.revenue,
            own_capacity_kgpu: lab.own_capacity,
            own_unit_cost: cfg.labs[l].own_unit_cost
                * crate::econ::pricing::trend_factor(cfg.pricing.cost_trend_per_year, cx.clock.tick),
            inference_kgpu: lab.inference_kgpu,
            hosts: &lab.hosts,
            initial_hosts: &initial_hosts,
            available: &cx.market.provider_active,
            prices: &cx.market.price,
            contract_prices: &lab.contract_prices,
            free_fraction: &cx.market.free_fraction,
            capacity_kgpu: &capacity,
            unit_cost: &unit_cost,
            contracts: &cx.contracts.0,
            regulation: &cx.regulation,
            owner: lab.owner,
            behaviour,
        });
        lab.training_kgpu = plan.training_kgpu;
        lab.efficiency = plan.efficiency;
        lab.avg_host_price = plan.avg_host_price;
        lab.hosts = plan.hosts;
        lab.contract_prices = plan.contract_prices;
        lab.credit_draw = plan.credit_draw;
        lab.excused = plan.excused;
        // Not during initialisation: the default rule reads a month's revenue and inference,
        // which exist from the warm-up settlement on.
        if let Some(f) = plan.renegotiation.filter(|_| !cx.settlement.0.lab_revenue.is_empty()) {
            renegotiated.push((l, f));
        }
    }
    let tick = cx.clock.tick;
    let month = cx.clock.month().to_string();
    // Logged in lab order whatever the query's iteration order.
    renegotiated.sort_by_key(|(l, _)| *l);
    for (l, f) in renegotiated {
        let mut terms = Vec::new();
        for c in cx.contracts.0.iter_mut().filter(|c| c.lab == l && c.active(tick)) {
            if c.commitment > 0.0 {
                terms.push(format!("{} {:.0} → {:.0}", c.id, c.commitment, c.commitment * f));
                c.commitment *= f;
            }
        }
        cx.log.0.push(FiredEvent {
            tick,
            date: month.clone(),
            kind: "renegotiation".into(),
            label: cx.layout.labs[l].clone(),
            note: format!(
                "commitments beyond the lab's means renegotiated down by {:.1} % (US$ M/month: {})",
                100.0 * (1.0 - f),
                terms.join(", ")
            ),
        });
    }
}
