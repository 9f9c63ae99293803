//! Phase 3 — providers: capacity build-out, prices, which models each offers, and the choice
//! tables enterprises will use this month.

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

use crate::config::{CloudPriceRule, FeeRule, MarginRule, MarketplacePolicy, PricingRule};
use crate::econ::choice::{ChoiceTables, CloudTables, HomeProvider, OptionWeights, home_utility_table, option_utility};
use crate::econ::cloud_prices::{self, CloudSeller};
use crate::econ::marketplace_margins::{MarginSeller, best_margins, next_margins};
use crate::econ::model_fees::{FeeDemand, FeeOption, equilibrium_fees, next_fees};
use crate::econ::offering::{LabOffering, marketplace_offer};
use crate::econ::portfolio::{Thresholds, threshold16};
use crate::econ::{bertrand, capacity, compute_market, pricing, surplus, switching};
use crate::sim::agents::{LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::resources::{Clock, Contracts, Demand, Holdings, Layout, MarketView, Params, Policy, Settlement};

/// What `run_providers` reads besides the providers.
#[derive(SystemParam)]
pub struct PriceInputs<'w, 's> {
    params: Res<'w, Params>,
    clock: Res<'w, Clock>,
    regulation: Res<'w, Policy>,
    layout: Res<'w, Layout>,
    settlement: Res<'w, Settlement>,
    view: Res<'w, MarketView>,
    labs: Query<'w, 's, (&'static LabIdx, &'static LabState)>,
}

/// Capacity arrives, investment is ordered, unit costs move, and prices are set: by damped best
/// responses to the labs' allocation logit (`pricing.rule = "best_response"`), or by the
/// utilisation rule.
pub fn run_providers(inputs: PriceInputs, mut providers: Query<(&ProviderIdx, &mut ProviderState)>) {
    let cfg = &inputs.params.0;
    let tick = inputs.clock.tick;
    for (idx, mut p) in &mut providers {
        if !p.active {
            continue;
        }
        let pc = &cfg.providers[idx.0];
        let order = capacity::investment_order(
            p.capacity,
            p.load,
            pc.target_utilisation,
            pc.invest_rate,
            pc.invest_response,
        );
        let arrived = p.pipeline.advance(order) + p.ramp.pop_front().unwrap_or(0.0);
        p.capacity += arrived;
        p.unit_cost = pricing::unit_cost_at(
            pc.unit_cost,
            cfg.pricing.cost_trend_per_year,
            inputs.regulation.price_cycle,
            tick,
        );
        if cfg.pricing.rule == PricingRule::Utilisation {
            p.price = pricing::next_price(p.price, p.unit_cost, p.load, pc.target_utilisation, pc.price_response);
            p.shadow_price = 0.0;
        }
    }
    if cfg.pricing.rule == PricingRule::BestResponse {
        best_response_prices(&inputs, &mut providers);
    }
}

/// One month of Bertrand price adjustment: every owner's best response to the current prices
/// (Jacobi), each price moving `damping` of the way to it.
fn best_response_prices(inputs: &PriceInputs, providers: &mut Query<(&ProviderIdx, &mut ProviderState)>) {
    let cfg = &inputs.params.0;
    let n_p = inputs.layout.n_providers();
    let slots = inputs.layout.slots;
    let flows = &inputs.settlement.0;
    let mut sellers = vec![
        compute_market::Seller {
            active: false,
            owner: 0,
            unit_cost: 1.0,
            capacity_kgpu: 0.0,
            free_fraction: 0.0,
            marketplace_kgpu: 0.0,
            marketplace_margin: 0.0,
            marketplace_response: (0.0, 0.0),
            price: 1.0,
        };
        n_p
    ];
    let e = &cfg.enterprise;
    // A forward-looking seller faces the marketplace stock's elasticity; a myopic one only the
    // share of workloads that choose this month (new projects and reviews).
    let horizon_share = if cfg.pricing.forward_looking {
        1.0
    } else {
        (e.project_probability + e.review_probability).min(1.0)
    };
    let ai_spend: f64 = flows.slot_spend.iter().sum();
    // Providers with one corporate owner (`providers.<id>.owner`) price jointly: the owner's
    // index is its first provider's.
    let owner_index = provider_owner_ids(cfg, n_p);
    // Margins as the marketplaces charge them: configured, or as last published by their owners.
    let margin_of = |i: usize| match cfg.pricing.margin_rule {
        MarginRule::Configured => cfg.providers[i].marketplace_margin,
        MarginRule::BestResponse => inputs
            .view
            .marketplace_margin
            .get(i)
            .copied()
            .unwrap_or(cfg.providers[i].marketplace_margin),
    };
    for (idx, p) in providers.iter() {
        let i = idx.0;
        let options: Vec<(f64, f64, f64)> = (0..slots.n_labs)
            .map(|l| {
                let k = slots.marketplace_slot(i, l);
                let q = flows.slot_kgpu.get(k).copied().unwrap_or(0.0);
                let spend = flows.slot_spend.get(k).copied().unwrap_or(0.0);
                let share = if ai_spend > 0.0 { spend / ai_spend } else { 0.0 };
                (q, share, inputs.view.slot_price.get(k).copied().unwrap_or(0.0))
            })
            .collect();
        let marketplace_kgpu = options.iter().map(|o| o.0).sum();
        let marketplace_response =
            compute_market::marketplace_response(e.price_weight, p.price, margin_of(i), &options, horizon_share);
        sellers[i] = compute_market::Seller {
            active: p.active,
            owner: owner_index[i],
            unit_cost: p.unit_cost,
            capacity_kgpu: p.capacity,
            free_fraction: (1.0 - p.utilisation).clamp(0.0, 1.0),
            marketplace_kgpu,
            marketplace_margin: margin_of(i),
            marketplace_response,
            price: p.price,
        };
    }
    let prices: Vec<f64> = sellers.iter().map(|s| s.price).collect();
    let mut lab_rows: Vec<(usize, compute_market::LabDemand)> = inputs
        .labs
        .iter()
        .filter(|(_, l)| l.active && l.hosts.len() == n_p)
        .map(|(idx, l)| {
            let demand = compute_market::LabDemand {
                rented_kgpu: (l.training_kgpu + l.inference_kgpu - l.own_capacity).max(0.0),
                shares: l.hosts.as_slice(),
            };
            (idx.0, demand)
        })
        .collect();
    lab_rows.sort_by_key(|(l, _)| *l);
    let labs: Vec<compute_market::LabDemand> = lab_rows.into_iter().map(|(_, d)| d).collect();
    // Before the labs' first allocation (tick 0) nobody is buying: prices stay as configured.
    if labs
        .iter()
        .all(|l| l.rented_kgpu <= 0.0 || l.shares.iter().sum::<f64>() <= 0.0)
    {
        return;
    }
    let pr = &cfg.pricing;
    let lb = &cfg.lab_behaviour;
    let market = compute_market::market(
        &sellers,
        &labs,
        &compute_market::ComputeBehaviour {
            price_weight: lb.host_price_weight,
            free_capacity_weight: lb.free_capacity_weight,
            dependency_aversion: lb.dependency_aversion,
            allocation_speed: lb.allocation_speed,
            monthly_discount: if pr.forward_looking {
                compute_market::monthly_discount(pr.discount_rate_per_year)
            } else {
                0.0
            },
        },
    );
    let mut next = prices.clone();
    let mut shadow = vec![0.0; n_p];
    for owner in market.owners() {
        let own = |j: &usize| sellers[*j].active && sellers[*j].owner == owner;
        // Each owner's ceiling: `max_price_ratio` times its (largest) unit cost.
        let ceiling = (0..n_p)
            .filter(own)
            .map(|j| sellers[j].unit_cost * pr.max_price_ratio)
            .fold(0.0, f64::max);
        if ceiling <= 0.0 {
            continue;
        }
        let solver = bertrand::Solver {
            f_max: ceiling,
            ..bertrand::Solver::default()
        };
        let br = bertrand::best_response(&market, &prices, owner, &solver);
        for j in (0..n_p).filter(own) {
            next[j] = bertrand::damped_step(prices[j], br.fees[j], pr.damping);
            shadow[j] = br.shadow[j];
        }
    }
    for (idx, mut p) in providers.iter_mut() {
        if p.active {
            p.price = next[idx.0];
            p.shadow_price = shadow[idx.0];
        }
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
    holdings: Res<'w, Holdings>,
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
    let mut slot_open_copy = vec![false; n_slots];
    let mut utilities = vec![None; n_slots];
    let weights = OptionWeights {
        quality_weight: e.quality_weight,
        price_weight: e.price_weight,
        direct_api_bonus: e.direct_api_bonus,
    };
    // Each offered slot before its fee: (slot, lab, utility at price 1, price part the lab does
    // not set, whether the lab earns its fee there).
    let mut entries: Vec<FeeEntry> = Vec::new();
    // Per entry, the provider whose marketplace offers it (`None`: a direct API).
    let mut hosts: Vec<Option<usize>> = Vec::new();
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
            let slot = slots.marketplace_slot(p, l);
            offered[slot] = true;
            slot_quality[slot] = offer.quality;
            // A third party hosting open weights (not the lab's owner, not under licence).
            slot_open_copy[slot] = !offer.earns_fee && lab.owner != Some(p);
            let a = option_utility(&weights, offer.quality, 1.0, lab_cfg.brand, false);
            // Open weights are free to host: the lab earns a fee only where it is licensed.
            // The fixed part (compute and margin) is set once the margins are (below).
            entries.push((slot, l, a, 0.0, offer.earns_fee));
            hosts.push(Some(p));
        }
        if lab_cfg.direct_api {
            let slot = slots.direct_slot(l);
            offered[slot] = true;
            slot_quality[slot] = lab.quality;
            let fixed = pricing::direct_price(lab.avg_host_price, 0.0);
            entries.push((
                slot,
                l,
                option_utility(&weights, lab.quality, 1.0, lab_cfg.brand, true),
                fixed,
                // As on marketplaces (`econ::offering`): open weights earn no fee.
                !lab_cfg.open_weight,
            ));
            hosts.push(None);
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
    // Surplus per workload and the fee game: a plain enterprise of each suite (weights:
    // configured suite shares), with its suite's bundle on that cloud's marketplace.
    let suite_weights: Vec<f64> = std::iter::once(1.0 - cfg.providers.values().map(|p| p.suite_share).sum::<f64>())
        .chain(cfg.providers.values().map(|p| p.suite_share))
        .map(|w| w.max(0.0))
        .collect();
    let suite_bonus = |s: usize, k: usize| match (s.checked_sub(1), slots.provider_of_channel(slots.split(k).0)) {
        (Some(q), Some(p)) if q == p => bundle[p],
        _ => 0.0,
    };
    let game = AiGame {
        inputs: &inputs,
        view: &view,
        outside_utility: ai_outside,
        suite_weights: &suite_weights,
        suite_bonus: &suite_bonus,
    };
    let (marketplace_margin, fees) = game.margins_and_fees(&price, &mut entries, &hosts);
    let mut slot_fee = vec![0.0; n_slots];
    for (&(slot, _, a, fixed, _), fee) in entries.iter().zip(fees) {
        slot_fee[slot] = fee;
        slot_price[slot] = fixed + fee;
        utilities[slot] = Some(a - e.price_weight * slot_price[slot].ln());
    }
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
    let home_at = |index: &[f64]| -> Vec<HomeProvider> {
        cfg.providers
            .values()
            .enumerate()
            .map(|(p, pc)| HomeProvider {
                active: provider_active[p],
                brand: pc.brand,
                cloud_price_index: index[p],
                best_quality: best_quality[p],
                suite_bonus: bundle[p],
                licensing_penalty: if regulation.licensing_penalties_removed {
                    0.0
                } else {
                    pc.licensing_penalty
                },
            })
            .collect()
    };
    let cloud_outside = inputs.demand.cloud_outside_v0 + d.cloud_outside_trend_per_year * years;
    let unit_price_utilities = home_utility_table(&home_at(&vec![1.0; n_p]), e.cloud_price_weight, e.ai_pull_weight);
    let (cloud_index, cloud_cost) = cloud_prices(
        &inputs,
        &view,
        &provider_active,
        &unit_price_utilities,
        &suite_weights,
        cloud_outside,
    );
    let home_providers = home_at(&cloud_index);
    let home_utilities = home_utility_table(&home_providers, e.cloud_price_weight, e.ai_pull_weight);
    let cloud = CloudTables::new(
        n_p,
        &home_utilities,
        cloud_outside,
        &gravity_of(e.cloud_gravity),
        e.migration_cost,
    );
    let month = |annual: f64| (1.0 + annual).powf(1.0 / 12.0) - 1.0;

    let ai_slots: Vec<usize> = (0..n_slots).filter(|&k| utilities[k].is_some()).collect();
    let ai_options: Vec<surplus::Offered> = ai_slots
        .iter()
        .map(|&k| surplus::Offered {
            utility: utilities[k].unwrap_or(0.0),
            price: slot_price[k],
        })
        .collect();
    let ai_suites: Vec<(f64, Vec<f64>)> = suite_weights
        .iter()
        .enumerate()
        .map(|(s, &w)| {
            let bonus = ai_slots.iter().map(|&k| suite_bonus(s, k)).collect();
            (w, bonus)
        })
        .collect();
    let ai_value = surplus::valuation(e.price_weight, &ai_options, ai_outside, &ai_suites);
    let active: Vec<usize> = (0..n_p).filter(|&p| provider_active[p]).collect();
    let cloud_suites = suite_segments(&home_utilities, n_p, &active, &suite_weights);
    let cloud_options: Vec<surplus::Offered> = active
        .iter()
        .map(|&p| surplus::Offered {
            utility: home_utilities[p].unwrap_or(0.0),
            price: cloud_index[p],
        })
        .collect();
    let cloud_value = surplus::valuation(e.cloud_price_weight, &cloud_options, cloud_outside, &cloud_suites);
    // The money metric's reference: the initial offer's marginal utility of money, moved by the
    // cost trend for AI (US$ prices fall with costs; general-cloud unit costs do not trend).
    let first = |kept: f64, now: f64| if kept > 0.0 { kept } else { now };
    let ai_reference_mu0 = first(view.ai_reference_mu0, ai_value.marginal_utility);
    let cloud_reference_mu0 = first(view.cloud_reference_mu0, cloud_value.marginal_utility);
    let ai_reference = ai_reference_mu0 / pricing::trend_factor(cfg.pricing.cost_trend_per_year, tick);
    let ai_surplus_per_unit = surplus::per_unit(&ai_value, ai_reference);
    let cloud_surplus_per_unit = surplus::per_unit(&cloud_value, cloud_reference_mu0);

    *view = MarketView {
        price,
        provider_active,
        marketplace_margin,
        free_fraction,
        offered,
        slot_quality,
        slot_price,
        slot_fee,
        slot_open_copy,
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
        ai_surplus_per_unit,
        cloud_surplus_per_unit,
        ai_reference_mu0,
        cloud_reference_mu0,
        ai_reference_ratio: surplus::reference_ratio(&ai_value, ai_reference),
        cloud_reference_ratio: surplus::reference_ratio(&cloud_value, cloud_reference_mu0),
        ai_marginal_utility: ai_value.marginal_utility,
        cloud_marginal_utility: cloud_value.marginal_utility,
        cloud_index,
        cloud_cost,
    };
}

/// The cloud choice's segments: per suite, its weight and each of the `active` providers'
/// bonus in it. Row s of the home table already holds suite s's bundle and licensing terms, so
/// the bonus is row s minus row 0 (the same at any price index: the price term cancels).
fn suite_segments(
    home_utilities: &[Option<f64>],
    n_p: usize,
    active: &[usize],
    suite_weights: &[f64],
) -> Vec<(f64, Vec<f64>)> {
    suite_weights
        .iter()
        .enumerate()
        .map(|(s, &w)| {
            let bonus = active
                .iter()
                .map(|&p| home_utilities[s * n_p + p].unwrap_or(0.0) - home_utilities[p].unwrap_or(0.0))
                .collect();
            (w, bonus)
        })
        .collect()
}

/// This month's general-cloud price indices and unit costs (`econ::cloud_prices`). The first
/// month's indices are the configured ones, and the costs are implied from them (so that they
/// are an equilibrium, at the best-response ceiling where demand is too inelastic for an
/// interior one), as is an entrant's cost in the month it starts operating. After the first
/// month, under `pricing.cloud_price_rule = "best_response"`, each index moves a damped step
/// towards its owner's best response; under `"configured"` it stays `cloud_price_index` (and its
/// `set` events), and the costs only measure margins.
fn cloud_prices(
    inputs: &OfferingInputs,
    view: &MarketView,
    provider_active: &[bool],
    unit_price_utilities: &[Option<f64>],
    suite_weights: &[f64],
    outside_utility: f64,
) -> (Vec<f64>, Vec<f64>) {
    let cfg = &inputs.params.0;
    let n_p = provider_active.len();
    let tick = inputs.clock.tick;
    let strategic = cfg.pricing.cloud_price_rule == CloudPriceRule::BestResponse;
    let configured: Vec<f64> = cfg.providers.values().map(|p| p.cloud_price_index).collect();
    let first_month = tick == 0 || view.cloud_cost.len() != n_p;
    let mut cost = if first_month {
        vec![f64::NAN; n_p]
    } else {
        view.cloud_cost.clone()
    };
    let current: Vec<f64> = if first_month || !strategic {
        configured.clone()
    } else {
        (0..n_p)
            .map(|p| {
                if cost[p].is_nan() {
                    configured[p]
                } else {
                    view.cloud_index[p]
                }
            })
            .collect()
    };
    let active: Vec<usize> = (0..n_p)
        .filter(|&p| provider_active[p] && unit_price_utilities[p].is_some())
        .collect();
    let owner = provider_owner_ids(cfg, n_p);
    let total: u64 = inputs.holdings.cloud.iter().sum();
    let e = &cfg.enterprise;
    let demand = FeeDemand {
        price_weight: e.cloud_price_weight,
        outside_utility,
        segments: suite_segments(unit_price_utilities, n_p, &active, suite_weights),
        total_units: if total > 0 { total as f64 } else { 1.0 },
        horizon_share: if cfg.pricing.forward_looking {
            1.0
        } else {
            (e.project_probability + e.cloud_review_probability).min(1.0)
        },
    };
    let mut sellers: Vec<CloudSeller> = active
        .iter()
        .map(|&p| CloudSeller {
            base_utility: unit_price_utilities[p].unwrap_or(0.0),
            index: current[p],
            cost: cost[p],
            owner: owner[p],
            installed: inputs.holdings.cloud.get(p).copied().unwrap_or(0) as f64,
            price_taker: cfg.providers[p].fringe,
        })
        .collect();
    if active.iter().any(|&p| cost[p].is_nan()) {
        // The starting indices are read as a long-run equilibrium: costs come from the static
        // (forward-looking) conditions, and a myopic provider harvests from there.
        let long_run = FeeDemand {
            horizon_share: 1.0,
            ..demand.clone()
        };
        let implied = cloud_prices::implied_costs(&sellers, &long_run, cfg.pricing.max_price_ratio);
        for (&p, c) in active.iter().zip(implied) {
            if cost[p].is_nan() {
                cost[p] = c;
            }
        }
    }
    if first_month || !strategic {
        return (current, cost);
    }
    for (s, &p) in sellers.iter_mut().zip(&active) {
        s.cost = cost[p];
    }
    let pr = &cfg.pricing;
    let mut index = current;
    for (&p, next) in active.iter().zip(cloud_prices::next_indices(
        &sellers,
        &demand,
        pr.damping,
        pr.max_price_ratio,
    )) {
        index[p] = next;
    }
    (index, cost)
}

/// An offered slot before its fee: (slot, lab, utility at price 1, the price part the lab does not
/// set, whether the lab earns its fee there).
type FeeEntry = (usize, usize, f64, f64, bool);

/// Each provider's corporate owner id (its owner's first provider index): the owner id the fee
/// and margin games share.
fn provider_owner_ids(cfg: &crate::config::Config, n_p: usize) -> Vec<usize> {
    (0..n_p)
        .map(|p| {
            (0..n_p)
                .find(|&j| cfg.provider_owner(j) == cfg.provider_owner(p))
                .unwrap_or(p)
        })
        .collect()
}

/// What the fee and margin games read besides the offered entries: the systems' inputs, last
/// month's view, the AI outside option's utility and the suite segments (weights, and each
/// suite's bonus on an entry's slot).
struct AiGame<'a, 'w, 's, B> {
    inputs: &'a OfferingInputs<'w, 's>,
    view: &'a MarketView,
    outside_utility: f64,
    suite_weights: &'a [f64],
    suite_bonus: &'a B,
}

impl<B: Fn(usize, usize) -> f64> AiGame<'_, '_, '_, B> {
    /// This month's marketplace margin per provider and fee on each entry, with each marketplace
    /// entry's fixed part set to `price_p (1 + margin_p)`. Margins are as configured or, under
    /// `pricing.margin_rule = "best_response"` (`econ::marketplace_margins`), at the joint
    /// equilibrium with the fees in the first month (best-response margins and the fee equilibrium
    /// alternated until no margin moves by 1e-9, at most 100 rounds), and after it a damped step
    /// towards every provider owner's best response to last month's margins and fees; the fees then
    /// respond to this month's margins ([`Self::model_fees`]).
    fn margins_and_fees(
        &self,
        price: &[f64],
        entries: &mut [FeeEntry],
        hosts: &[Option<usize>],
    ) -> (Vec<f64>, Vec<f64>) {
        let (inputs, view) = (self.inputs, self.view);
        let cfg = &inputs.params.0;
        let n_p = inputs.layout.n_providers();
        let set_fixed = |entries: &mut [FeeEntry], margins: &[f64]| {
            for (entry, host) in entries.iter_mut().zip(hosts) {
                if let Some(p) = *host {
                    entry.3 = pricing::marketplace_price(price[p], margins[p], 0.0);
                }
            }
        };
        let configured: Vec<f64> = cfg.providers.values().map(|p| p.marketplace_margin).collect();
        if cfg.pricing.margin_rule == MarginRule::Configured {
            set_fixed(entries, &configured);
            let fees = self.model_fees(entries, None);
            return (configured, fees);
        }
        let owner = provider_owner_ids(cfg, n_p);
        let mut unit_cost = vec![1.0; n_p];
        let mut active = vec![false; n_p];
        for (idx, p) in &inputs.providers {
            unit_cost[idx.0] = p.unit_cost;
            active[idx.0] = p.active;
        }
        let sellers = |margins: &[f64]| -> Vec<MarginSeller> {
            (0..n_p)
                .map(|p| MarginSeller {
                    owner: owner[p],
                    compute_price: price[p],
                    unit_cost: unit_cost[p],
                    margin: margins[p],
                    // The fringe of small clouds is atomistic: it keeps its configured margin.
                    price_taker: cfg.providers[p].fringe || !active[p],
                })
                .collect()
        };
        let pr = &cfg.pricing;
        let mut margins = if view.marketplace_margin.len() == n_p {
            view.marketplace_margin.clone()
        } else {
            configured
        };
        if inputs.clock.tick > 0 {
            set_fixed(entries, &margins);
            let (options, demand) = self.fee_inputs(entries, None);
            margins = next_margins(
                &options,
                hosts,
                &sellers(&margins),
                &demand,
                pr.damping,
                pr.max_price_ratio,
            );
        } else {
            let mut fees: Option<Vec<f64>> = None;
            for _ in 0..100 {
                set_fixed(entries, &margins);
                let now = self.model_fees(entries, fees.as_deref());
                let (options, demand) = self.fee_inputs(entries, Some(&now));
                let best = best_margins(&options, hosts, &sellers(&margins), &demand, pr.max_price_ratio);
                let moved = best
                    .iter()
                    .zip(&margins)
                    .map(|(b, m)| (b - m).abs())
                    .fold(0.0, f64::max);
                margins = best;
                fees = Some(now);
                if moved < 1e-9 {
                    break;
                }
            }
        }
        set_fixed(entries, &margins);
        let fees = self.model_fees(entries, None);
        (margins, fees)
    }

    /// The fee game on `entries`: its options (fee: `fees[k]` if given, else the last published
    /// fee where the lab already earned one on the slot, else the configured fee; 0 where it earns
    /// none) and the demand side.
    fn fee_inputs(&self, entries: &[FeeEntry], fees: Option<&[f64]>) -> (Vec<FeeOption>, FeeDemand) {
        let (inputs, view) = (self.inputs, self.view);
        let cfg = &inputs.params.0;
        let n_p = inputs.layout.n_providers();
        let mut owning = vec![None; cfg.labs.len()];
        for (idx, lab) in &inputs.labs {
            owning[idx.0] = lab.owner;
        }
        // A first-party lab's owner is its provider's corporate owner; an independent lab owns itself.
        let provider_owner = provider_owner_ids(cfg, n_p);
        let owner_id = |l: usize| match owning[l] {
            Some(p) => provider_owner[p],
            None => n_p + l,
        };
        let holdings = &inputs.holdings;
        let options: Vec<FeeOption> = entries
            .iter()
            .enumerate()
            .map(|(i, &(slot, l, base_utility, fixed, earns))| {
                // The last published fee where the lab already earned one on this slot (in the
                // first month, the previous initialisation round's equilibrium: a warm start).
                let previous = view
                    .slot_fee
                    .get(slot)
                    .copied()
                    .filter(|&f| f > 0.0 && view.offered.get(slot) == Some(&true));
                let fee = match (earns, fees) {
                    (false, _) => 0.0,
                    (true, Some(given)) => given[i],
                    (true, None) => previous.unwrap_or(cfg.labs[l].model_fee),
                };
                FeeOption {
                    base_utility,
                    fixed,
                    fee,
                    owner: earns.then(|| owner_id(l)),
                    installed: holdings.ai_on(slot) as f64,
                }
            })
            .collect();
        let e = &cfg.enterprise;
        let total: u64 = holdings.ai.iter().sum();
        let demand = FeeDemand {
            price_weight: e.price_weight,
            outside_utility: self.outside_utility,
            segments: self
                .suite_weights
                .iter()
                .enumerate()
                .map(|(s, &w)| (w, entries.iter().map(|&(k, ..)| (self.suite_bonus)(s, k)).collect()))
                .collect(),
            // The masses' scale does not move a best response; before any unit is placed, use 1.
            total_units: if total > 0 { total as f64 } else { 1.0 },
            // As for compute prices: a forward-looking seller prices against its stock, a myopic one
            // only against this month's choosers (new projects and reviews).
            horizon_share: if cfg.pricing.forward_looking {
                1.0
            } else {
                (e.project_probability + e.review_probability).min(1.0)
            },
        };
        (options, demand)
    }

    /// This month's fee on each entry: as configured, or (`pricing.fee_rule = "best_response"`) the
    /// fee equilibrium in the first month and a damped step towards every lab owner's best response
    /// after it (`econ::model_fees`). Labs with one corporate owner price jointly. `warm`: fees to
    /// start the first month's equilibrium from (default: the last published ones).
    fn model_fees(&self, entries: &[FeeEntry], warm: Option<&[f64]>) -> Vec<f64> {
        let inputs = self.inputs;
        let cfg = &inputs.params.0;
        if cfg.pricing.fee_rule == FeeRule::Configured {
            return entries
                .iter()
                .map(|&(_, l, _, _, earns)| if earns { cfg.labs[l].model_fee } else { 0.0 })
                .collect();
        }
        let (options, demand) = self.fee_inputs(entries, warm);
        let pr = &cfg.pricing;
        if inputs.clock.tick == 0 {
            equilibrium_fees(&options, &demand, pr.max_price_ratio)
        } else {
            next_fees(&options, &demand, pr.damping, pr.max_price_ratio)
        }
    }
}
