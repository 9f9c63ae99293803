//! Phase 3 — providers: capacity build-out, prices, which models each offers, and the choice
//! tables enterprises will use this month.

use bevy_ecs::prelude::*;

use crate::config::MarketplacePolicy;
use crate::econ::choice::{ChoiceTables, HomeInputs, HomeTables, OptionWeights, home_utility, option_utility};
use crate::econ::{capacity, pricing, switching};
use crate::sim::components::{LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::resources::{Clock, Contracts, Layout, MarketView, Params, Policy};
use crate::sim::rng::threshold32;

/// Capacity arrives, investment is ordered, and prices respond to last month's load.
pub fn run_providers(
    params: Res<Params>,
    clock: Res<Clock>,
    regulation: Res<Policy>,
    mut providers: Query<(&ProviderIdx, &mut ProviderState)>,
) {
    for (idx, mut p) in &mut providers {
        if !p.active {
            continue;
        }
        let cfg = &params.0.providers[idx.0];
        let order = capacity::investment_order(
            p.capacity,
            p.load,
            cfg.target_utilisation,
            cfg.invest_rate,
            cfg.invest_response,
        );
        let arrived = p.pipeline.advance(order) + p.ramp.pop_front().unwrap_or(0.0);
        p.capacity += arrived;
        let unit_cost = match regulation.price_cycle {
            Some((start, amplitude, period)) => {
                pricing::cycled_unit_cost(cfg.unit_cost, amplitude, clock.tick.saturating_sub(start), period)
            }
            None => cfg.unit_cost,
        };
        p.price = pricing::next_price(p.price, unit_cost, p.load, cfg.target_utilisation, cfg.price_response);
    }
}

/// What the market offers this month, in a form the other phases read.
#[derive(Debug, Clone, Copy)]
struct LabView {
    active: bool,
    quality: f64,
    owner: Option<usize>,
    open_gap: Option<f64>,
    listing: bool,
    avg_host_price: f64,
}

/// Builds the market view: offered options with their quality and price, and the sampling
/// tables of the enterprise choices.
#[allow(clippy::too_many_arguments)]
pub fn publish_offerings(
    mut view: ResMut<MarketView>,
    params: Res<Params>,
    clock: Res<Clock>,
    layout: Res<Layout>,
    contracts: Res<Contracts>,
    regulation: Res<Policy>,
    providers: Query<(&ProviderIdx, &ProviderState)>,
    labs: Query<(&LabIdx, &LabState)>,
) {
    let cfg = &params.0;
    let e = &cfg.enterprise;
    let (n_p, n_l) = (layout.n_providers(), layout.n_labs());
    let mut price = vec![0.0; n_p];
    let mut provider_active = vec![false; n_p];
    let mut free_fraction = vec![0.0; n_p];
    for (idx, p) in &providers {
        price[idx.0] = p.price;
        provider_active[idx.0] = p.active;
        free_fraction[idx.0] = if p.active {
            (1.0 - p.utilisation).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    let mut lab = vec![
        LabView {
            active: false,
            quality: 0.0,
            owner: None,
            open_gap: None,
            listing: false,
            avg_host_price: 1.0
        };
        n_l
    ];
    for (idx, s) in &labs {
        lab[idx.0] = LabView {
            active: s.active,
            quality: s.quality,
            owner: s.owner,
            open_gap: s.open_release_gap,
            listing: s.marketplace_listing,
            avg_host_price: s.avg_host_price,
        };
    }

    let tick = clock.tick;
    let n_slots = layout.slots.n_slots();
    let mut offered = vec![false; n_slots];
    let mut slot_quality = vec![0.0; n_slots];
    let mut slot_price = vec![0.0; n_slots];
    let mut utilities = vec![None; n_slots];
    let weights = OptionWeights {
        quality_weight: e.quality_weight,
        price_weight: e.price_weight,
        direct_api_bonus: e.direct_api_bonus,
    };
    for (l, &lv) in lab.iter().enumerate() {
        if !lv.active {
            continue;
        }
        let lab_cfg = &cfg.labs[l];
        let exclusive_holder = contracts
            .0
            .iter()
            .find(|c| c.lab == l && c.exclusive_licence(tick, &regulation))
            .map(|c| c.provider);
        for p in 0..n_p {
            if !provider_active[p] {
                continue;
            }
            let blocked_by_exclusivity = exclusive_holder.is_some_and(|h| h != p);
            let mut licensed: Vec<f64> = Vec::new();
            if lv.owner == Some(p) {
                licensed.push(lv.quality);
            }
            if !blocked_by_exclusivity {
                for c in contracts
                    .0
                    .iter()
                    .filter(|c| c.lab == l && c.provider == p && c.licence && c.active(tick))
                {
                    licensed.push(c.frozen_quality.unwrap_or(lv.quality));
                }
                if lv.listing && cfg.providers[p].marketplace == MarketplacePolicy::Open {
                    licensed.push(lv.quality);
                }
            }
            let licensed_quality = licensed.into_iter().reduce(f64::max);
            let open_quality = if lab_cfg.open_weight {
                Some(lv.quality)
            } else {
                lv.open_gap.map(|g| lv.quality - g)
            };
            let Some(q) = [licensed_quality, open_quality].into_iter().flatten().reduce(f64::max) else {
                continue;
            };
            // Open weights are free to host: the lab earns a fee only where it is licensed.
            let fee = if licensed_quality.is_some_and(|lq| lq >= q) {
                lab_cfg.model_fee
            } else {
                0.0
            };
            let slot = layout.slots.marketplace_slot(p, l);
            offered[slot] = true;
            slot_quality[slot] = q;
            slot_price[slot] = pricing::marketplace_price(price[p], cfg.providers[p].marketplace_margin, fee);
            utilities[slot] = Some(option_utility(&weights, q, slot_price[slot], lab_cfg.brand, false));
        }
        if lab_cfg.direct_api {
            let slot = layout.slots.direct_slot(l);
            offered[slot] = true;
            slot_quality[slot] = lv.quality;
            slot_price[slot] = pricing::direct_price(lv.avg_host_price, lab_cfg.model_fee);
            utilities[slot] = Some(option_utility(
                &weights,
                lv.quality,
                slot_price[slot],
                lab_cfg.brand,
                true,
            ));
        }
    }

    let leave_cost: Vec<f64> = (0..layout.slots.n_channels())
        .map(|c| match layout.slots.provider_of_channel(c) {
            Some(p) => switching::egress_cost(
                switching::regulated_egress_fee(cfg.providers[p].egress_fee, regulation.egress_cap),
                e.egress_weight,
            ),
            None => 0.0,
        })
        .collect();
    let bundle: Vec<f64> = cfg
        .providers
        .values()
        .map(|p| {
            if regulation.bundling_banned {
                0.0
            } else {
                e.suite_affinity * p.bundle_strength
            }
        })
        .collect();
    let choice = ChoiceTables::new(n_l, &utilities, &leave_cost, e.home_affinity, &bundle);

    let best_quality: Vec<f64> = (0..n_p)
        .map(|p| {
            (0..n_l)
                .filter(|&l| offered[layout.slots.marketplace_slot(p, l)])
                .map(|l| slot_quality[layout.slots.marketplace_slot(p, l)])
                .fold(0.0, f64::max)
        })
        .collect();
    let mut home_utilities = Vec::with_capacity((n_p + 1) * n_p);
    for suite in 0..=n_p {
        for (p, pc) in cfg.providers.values().enumerate() {
            if !provider_active[p] {
                home_utilities.push(None);
                continue;
            }
            let owner = suite.checked_sub(1);
            let licensing_penalty = match owner {
                Some(q) if q != p && !regulation.licensing_penalties_removed => cfg.providers[q].licensing_penalty,
                _ => 0.0,
            };
            let inputs = HomeInputs {
                brand: pc.brand,
                cloud_price_index: pc.cloud_price_index,
                best_quality: best_quality[p],
                suite_bonus: if owner == Some(p) { bundle[p] } else { 0.0 },
                licensing_penalty,
            };
            home_utilities.push(Some(home_utility(&inputs, e.cloud_price_weight, e.ai_pull_weight)));
        }
    }
    let home = HomeTables::new(n_p, &home_utilities, e.migration_cost);

    *view = MarketView {
        price,
        provider_active,
        free_fraction,
        offered,
        slot_quality,
        slot_price,
        best_quality,
        choice,
        home,
        stay_factor: switching::stay_factor_table(e.switch_cost_base, e.lock_in_per_month, e.lock_in_cap_months),
        review_thresholds: (
            threshold32(e.review_probability),
            threshold32(e.home_review_probability),
        ),
    };
}
