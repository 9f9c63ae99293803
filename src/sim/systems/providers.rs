//! Phase 3 — providers: capacity build-out, prices, which models each offers, and the choice
//! tables enterprises will use this month.

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

use crate::config::MarketplacePolicy;
use crate::econ::choice::{ChoiceTables, CloudTables, HomeProvider, OptionWeights, home_utility_table, option_utility};
use crate::econ::offering::{LabOffering, marketplace_offer};
use crate::econ::portfolio::{Thresholds, threshold16};
use crate::econ::{capacity, pricing, switching};
use crate::sim::agents::{LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::resources::{Clock, Contracts, Demand, Layout, MarketView, Params, Policy};

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
        let unit_cost = pricing::unit_cost_at(
            cfg.unit_cost,
            params.0.pricing.cost_trend_per_year,
            regulation.price_cycle,
            clock.tick,
        );
        p.unit_cost = unit_cost;
        p.price = pricing::next_price(p.price, unit_cost, p.load, cfg.target_utilisation, cfg.price_response);
    }
}

/// What `publish_offerings` reads.
#[derive(SystemParam)]
pub struct OfferingInputs<'w, 's> {
    params: Res<'w, Params>,
    clock: Res<'w, Clock>,
    layout: Res<'w, Layout>,
    contracts: Res<'w, Contracts>,
    regulation: Res<'w, Policy>,
    demand: Res<'w, Demand>,
    providers: Query<'w, 's, (&'static ProviderIdx, &'static ProviderState)>,
    labs: Query<'w, 's, (&'static LabIdx, &'static LabState)>,
}

/// Builds the market view: offered options with their quality and price, and the sampling
/// tables of the enterprise choices.
pub fn publish_offerings(mut view: ResMut<MarketView>, inputs: OfferingInputs) {
    let cfg = &inputs.params.0;
    let e = &cfg.enterprise;
    let slots = inputs.layout.slots;
    let (n_p, n_l) = (slots.n_providers, slots.n_labs);
    let regulation = &*inputs.regulation;
    let tick = inputs.clock.tick;

    let mut price = vec![0.0; n_p];
    let mut provider_active = vec![false; n_p];
    let mut free_fraction = vec![0.0; n_p];
    for (idx, p) in &inputs.providers {
        price[idx.0] = p.price;
        provider_active[idx.0] = p.active;
        free_fraction[idx.0] = if p.active {
            (1.0 - p.utilisation).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    let mut labs: Vec<Option<&LabState>> = vec![None; n_l];
    for (idx, s) in &inputs.labs {
        labs[idx.0] = Some(s);
    }

    let n_slots = slots.n_slots();
    let mut offered = vec![false; n_slots];
    let mut slot_quality = vec![0.0; n_slots];
    let mut slot_price = vec![0.0; n_slots];
    let mut utilities = vec![None; n_slots];
    let weights = OptionWeights {
        quality_weight: e.quality_weight,
        price_weight: e.price_weight,
        direct_api_bonus: e.direct_api_bonus,
    };
    let contracts = &inputs.contracts.0;
    for (l, lab) in labs.iter().enumerate() {
        let Some(lab) = lab.filter(|s| s.active) else {
            continue;
        };
        let lab_cfg = &cfg.labs[l];
        let offering = LabOffering {
            quality: lab.quality,
            owner: lab.owner,
            listing: lab.marketplace_listing,
            open_weight: lab_cfg.open_weight,
            open_release_gap: lab.open_release_gap,
        };
        let exclusive_holder = contracts
            .iter()
            .find(|c| c.lab == l && c.exclusive_licence(tick, regulation))
            .map(|c| c.provider);
        for p in (0..n_p).filter(|&p| provider_active[p]) {
            let licences: Vec<f64> = contracts
                .iter()
                .filter(|c| c.lab == l && c.provider == p && c.licence && c.active(tick))
                .map(|c| c.frozen_quality.unwrap_or(lab.quality))
                .collect();
            let open_marketplace = cfg.providers[p].marketplace == MarketplacePolicy::Open;
            let Some(offer) = marketplace_offer(&offering, p, open_marketplace, &licences, exclusive_holder) else {
                continue;
            };
            // Open weights are free to host: the lab earns a fee only where it is licensed.
            let fee = if offer.earns_fee { lab_cfg.model_fee } else { 0.0 };
            let slot = slots.marketplace_slot(p, l);
            offered[slot] = true;
            slot_quality[slot] = offer.quality;
            slot_price[slot] = pricing::marketplace_price(price[p], cfg.providers[p].marketplace_margin, fee);
            utilities[slot] = Some(option_utility(
                &weights,
                offer.quality,
                slot_price[slot],
                lab_cfg.brand,
                false,
            ));
        }
        if lab_cfg.direct_api {
            let slot = slots.direct_slot(l);
            offered[slot] = true;
            slot_quality[slot] = lab.quality;
            slot_price[slot] = pricing::direct_price(lab.avg_host_price, lab_cfg.model_fee);
            utilities[slot] = Some(option_utility(
                &weights,
                lab.quality,
                slot_price[slot],
                lab_cfg.brand,
                true,
            ));
        }
    }

    let leave_cost: Vec<f64> = (0..slots.n_channels())
        .map(|c| match slots.provider_of_channel(c) {
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
    let years = f64::from(tick) / 12.0;
    // Data gravity pulls towards a cloud the enterprise already uses; a fringe aggregate of many
    // small clouds exerts none (workloads on one small cloud do not pull towards another).
    let gravity_of = |bonus: f64| -> Vec<f64> {
        cfg.providers
            .values()
            .map(|p| if p.fringe { 0.0 } else { bonus })
            .collect()
    };
    let d = &cfg.demand;
    // Self-hosting improves with the best open-weight model on offer.
    let open_labs: Vec<(bool, bool, f64, Option<f64>)> = (0..n_l)
        .map(|l| match labs[l] {
            Some(s) => (s.active, cfg.labs[l].open_weight, s.quality, s.open_release_gap),
            None => (false, false, 0.0, None),
        })
        .collect();
    let open_gain = crate::econ::offering::open_weight_frontier(&open_labs) - inputs.demand.ai_outside_q0;
    let ai_outside = inputs.demand.ai_outside_v0 + d.ai_outside_trend_per_year * years + e.quality_weight * open_gain;
    let choice = ChoiceTables::new(
        n_l,
        &utilities,
        Some(ai_outside),
        &leave_cost,
        &gravity_of(e.ai_cloud_affinity),
        e.ai_vendor_gravity,
        &bundle,
    );

    let best_quality: Vec<f64> = (0..n_p)
        .map(|p| {
            (0..n_l)
                .filter(|&l| offered[slots.marketplace_slot(p, l)])
                .map(|l| slot_quality[slots.marketplace_slot(p, l)])
                .fold(0.0, f64::max)
        })
        .collect();
    let home_providers: Vec<HomeProvider> = cfg
        .providers
        .values()
        .enumerate()
        .map(|(p, pc)| HomeProvider {
            active: provider_active[p],
            brand: pc.brand,
            cloud_price_index: pc.cloud_price_index,
            best_quality: best_quality[p],
            suite_bonus: bundle[p],
            licensing_penalty: if regulation.licensing_penalties_removed {
                0.0
            } else {
                pc.licensing_penalty
            },
        })
        .collect();
    let home_utilities = home_utility_table(&home_providers, e.cloud_price_weight, e.ai_pull_weight);
    let cloud_outside = inputs.demand.cloud_outside_v0 + d.cloud_outside_trend_per_year * years;
    let cloud = CloudTables::new(
        n_p,
        &home_utilities,
        cloud_outside,
        &gravity_of(e.cloud_gravity),
        e.migration_cost,
    );
    let month = |annual: f64| (1.0 + annual).powf(1.0 / 12.0) - 1.0;

    *view = MarketView {
        price,
        provider_active,
        free_fraction,
        offered,
        slot_quality,
        slot_price,
        best_quality,
        choice,
        cloud,
        stay_factor: switching::stay_factor_table(e.switch_cost_base, e.lock_in_per_month, e.lock_in_cap_months),
        thresholds: Thresholds {
            cloud_launch: threshold16(e.project_probability),
            cloud_review: threshold16(e.cloud_review_probability),
            ai_launch: threshold16(e.project_probability),
            ai_review: threshold16(e.review_probability),
        },
        // Per project, the growth of a month divided by the realised project probability.
        cloud_project_size: month(d.cloud_growth_per_year) / (threshold16(e.project_probability) as f64 / 65_536.0),
        ai_project_size: month(d.ai_growth_per_year) / (threshold16(e.project_probability) as f64 / 65_536.0),
        cloud_move_share: e.cloud_move_share,
    };
}
