//! Phase 2 — labs: model quality from last month's training, compute demand, and the hosting
//! allocation across providers.

use bevy_ecs::prelude::*;

use crate::econ::{allocation, contracts, pricing, quality};
use crate::sim::components::{LabIdx, LabState};
use crate::sim::resources::{Clock, Contracts, Demand, Holdings, Layout, MarketView, Params, Policy};

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

/// Each lab sizes its training and direct-API inference demand and spreads the rented part
/// across providers.
#[allow(clippy::too_many_arguments)]
pub fn plan_lab_compute(
    params: Res<Params>,
    clock: Res<Clock>,
    layout: Res<Layout>,
    market: Res<MarketView>,
    contracts: Res<Contracts>,
    regulation: Res<Policy>,
    holdings: Res<Holdings>,
    demand: Res<Demand>,
    mut labs: Query<(&LabIdx, &mut LabState)>,
) {
    let cfg = &params.0;
    let behaviour = &cfg.lab_behaviour;
    let n_providers = layout.n_providers();
    let weights = allocation::AllocationWeights {
        price_weight: behaviour.host_price_weight,
        free_capacity_weight: behaviour.free_capacity_weight,
        dependency_aversion: behaviour.dependency_aversion,
    };
    for (idx, mut lab) in &mut labs {
        let l = idx.0;
        if !lab.active {
            continue;
        }
        let direct_slot = layout.slots.direct_slot(l);
        lab.inference_kgpu = if holdings.total_size > 0 {
            demand.ai_kgpu * holdings.option_size[direct_slot] as f64 / holdings.total_size as f64
        } else {
            0.0
        };
        let available: Vec<bool> = market.provider_active.clone();
        let previous = if lab.hosts.iter().sum::<f64>() > 0.0 {
            lab.hosts.clone()
        } else {
            vec![0.0; n_providers]
        };
        let avg_price = weighted_price(&previous, &market.price, &available);
        let budget = lab.budget + behaviour.reinvest_share * lab.revenue;
        let bought = budget / (pricing::MUSD_PER_KGPU_MONTH_PER_DOLLAR_HOUR * avg_price);
        lab.training_kgpu = lab.own_capacity + bought;
        let rented = (lab.training_kgpu + lab.inference_kgpu - lab.own_capacity).max(0.0);

        let hosts: Vec<allocation::HostView> = (0..n_providers)
            .map(|p| {
                let credits: f64 = contracts
                    .0
                    .iter()
                    .filter(|c| c.lab == l && c.provider == p && c.active(clock.tick))
                    .map(|c| c.credits)
                    .sum();
                let annual = 12.0 * pricing::spend_musd(rented, market.price[p]);
                allocation::HostView {
                    available: available[p],
                    effective_price: market.price[p] * (1.0 - allocation::credit_discount(credits, annual)),
                    free_fraction: market.free_fraction[p],
                    current_share: previous[p],
                }
            })
            .collect();
        let target = allocation::target_shares(&hosts, &weights);
        let initial = &cfg.labs[l].initial_hosts;
        let adjusted = if previous.iter().sum::<f64>() <= 0.0 && !initial.is_empty() {
            layout
                .providers
                .iter()
                .map(|p| initial.get(p).copied().unwrap_or(0.0))
                .collect()
        } else {
            allocation::adjust(&previous, &target, behaviour.allocation_speed, &available)
        };
        let floors = contracts::compute_floors(
            &contracts.0,
            l,
            clock.tick,
            &regulation,
            &available,
            &market.price,
            rented,
            lab.owner.map(|o| (o, behaviour.owner_min_share)),
        );
        let next = allocation::apply_floors(&adjusted, &floors);
        let moved = if previous.iter().sum::<f64>() > 0.0 {
            allocation::moved_share(&previous, &next)
        } else {
            0.0
        };
        lab.efficiency = quality::training_efficiency(moved, behaviour.move_penalty);
        let total = lab.training_kgpu + lab.inference_kgpu;
        let own_used = lab.own_capacity.min(total);
        let rented_price = weighted_price(&next, &market.price, &available);
        lab.avg_host_price = if total > 0.0 {
            (own_used * cfg.labs[l].own_unit_cost + (total - own_used) * rented_price) / total
        } else {
            rented_price
        };
        lab.hosts = next;
    }
}

/// Allocation-weighted price; without an allocation, the cheapest available price.
fn weighted_price(shares: &[f64], prices: &[f64], available: &[bool]) -> f64 {
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
