//! Phase 6 — measurement: market shares, concentration and the run-level series of the tick.

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

use crate::config::{Market, Metric, MetricValues};
use crate::econ::concentration::{
    Stake, concentration_ratio_by_owner, concentration_ratio_named, dependency, hhi_by_owner, hhi_named, mhhi,
    owner_shares, shares,
};
use crate::econ::pricing;
use crate::econ::quality::frontier_quality;
use crate::sim::agents::{LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::resources::{
    AgentRow, Clock, Demand, Fault, Holdings, Layout, MarketView, Params, Settlement, ShareRow, TickReport,
};

/// Prefix of a lab's own data centres as an agent of the compute market (`self:meta`).
pub const SELF_HOSTED_PREFIX: &str = "self:";

/// What measurement reads.
#[derive(SystemParam)]
pub struct MeasureInputs<'w, 's> {
    params: Res<'w, Params>,
    clock: Res<'w, Clock>,
    layout: Res<'w, Layout>,
    view: Res<'w, MarketView>,
    holdings: Res<'w, Holdings>,
    demand: Res<'w, Demand>,
    settlement: Res<'w, Settlement>,
    providers: Query<'w, 's, (&'static ProviderIdx, &'static ProviderState)>,
    labs: Query<'w, 's, (&'static LabIdx, &'static LabState)>,
}

/// Builds this tick's report from settlement and holdings.
pub fn measure_markets(inputs: MeasureInputs, mut report: ResMut<TickReport>, mut fault: ResMut<Fault>) {
    let MeasureInputs {
        params,
        clock,
        layout,
        view,
        holdings,
        demand,
        settlement,
        providers,
        labs,
    } = inputs;
    let cfg = &params.0;
    let (n_p, n_l) = (layout.n_providers(), layout.n_labs());

    // Market amounts, quantities and new-project spend, agents in layout order.
    let slots = layout.slots;
    let index: Vec<f64> = if view.cloud_index.len() == n_p {
        view.cloud_index.clone()
    } else {
        cfg.providers.values().map(|p| p.cloud_price_index).collect()
    };
    let cloud: Vec<f64> = (0..n_p)
        .map(|p| holdings.cloud[p] as f64 * demand.cloud_musd_per_unit * index[p])
        .collect();
    let cloud_quantity: Vec<f64> = holdings.cloud[..n_p].iter().map(|&u| u as f64).collect();
    let cloud_quantity_total: f64 = cloud_quantity.iter().sum();
    // A provider that has not operated yet has no implied cost: no margin.
    let cloud_cost = |p: usize| {
        view.cloud_cost
            .get(p)
            .copied()
            .filter(|c| !c.is_nan())
            .unwrap_or(index[p])
    };
    let cloud_new: Vec<f64> = (0..n_p)
        .map(|p| holdings.month.new_cloud[p] as f64 * index[p])
        .collect();
    let mut channel = vec![0.0; n_p + n_l];
    let mut model = vec![0.0; n_l];
    let mut channel_kgpu = vec![0.0; n_p + n_l];
    let mut model_kgpu = vec![0.0; n_l];
    let mut channel_new = vec![0.0; n_p + n_l];
    let mut model_new = vec![0.0; n_l];
    // Model market by hoster: labs, then providers as hosters of open-weight copies.
    let mut hoster = vec![0.0; n_l + n_p];
    let mut hoster_kgpu = vec![0.0; n_l + n_p];
    let mut hoster_new = vec![0.0; n_l + n_p];
    let mut open_weight_spend = 0.0;
    for (slot, &spend) in settlement.slot_spend.iter().enumerate() {
        let (c, l) = slots.split(slot);
        channel[c] += spend;
        model[l] += spend;
        channel_kgpu[c] += settlement.slot_kgpu[slot];
        model_kgpu[l] += settlement.slot_kgpu[slot];
        let new_spend = holdings.month.new_ai[slot] as f64 * view.slot_price[slot];
        channel_new[c] += new_spend;
        model_new[l] += new_spend;
        let open_copy = view.slot_open_copy.get(slot).copied().unwrap_or(false);
        let h = match slots.provider_of_channel(c) {
            Some(p) if open_copy => n_l + p,
            _ => l,
        };
        hoster[h] += spend;
        hoster_kgpu[h] += settlement.slot_kgpu[slot];
        hoster_new[h] += new_spend;
        if open_copy || cfg.labs[l].open_weight {
            open_weight_spend += spend;
        }
    }
    // Compute market: providers, then each lab's own data centres.
    let mut compute = vec![0.0; n_p + n_l];
    for (l, row) in settlement.lab_compute.iter().enumerate() {
        for (p, v) in row[..n_p].iter().enumerate() {
            compute[p] += v;
        }
        compute[n_p + l] += row[n_p];
    }
    let self_names: Vec<String> = layout.labs.iter().map(|l| format!("{SELF_HOSTED_PREFIX}{l}")).collect();
    let agent_names: [Vec<&str>; 5] = [
        layout.providers.iter().map(String::as_str).collect(),
        layout
            .providers
            .iter()
            .chain(&layout.labs)
            .map(String::as_str)
            .collect(),
        layout.labs.iter().map(String::as_str).collect(),
        layout.providers.iter().chain(&self_names).map(String::as_str).collect(),
        layout
            .labs
            .iter()
            .chain(&layout.providers)
            .map(String::as_str)
            .collect(),
    ];
    let quantities = [cloud_quantity, channel_kgpu, model_kgpu, compute.clone(), hoster_kgpu];
    let new_spend = [
        Some(cloud_new),
        Some(channel_new),
        Some(model_new),
        None,
        Some(hoster_new),
    ];
    let amounts = [cloud, channel, model, compute, hoster];
    let provider_fringe: Vec<bool> = cfg.providers.values().map(|p| p.fringe).collect();
    let lab_fringe: Vec<bool> = cfg.labs.values().map(|l| l.fringe).collect();
    let fringe: [Vec<bool>; 5] = [
        provider_fringe.clone(),
        provider_fringe.iter().chain(&lab_fringe).copied().collect(),
        lab_fringe.clone(),
        provider_fringe.iter().chain(&lab_fringe).copied().collect(),
        lab_fringe.iter().chain(&provider_fringe).copied().collect(),
    ];

    // Owners: a provider's corporate owner (`providers.<id>.owner`, else itself); a lab (and
    // its own data centres) belongs to its owning provider's owner this month, or to itself.
    let provider_owner: Vec<&str> = (0..n_p).map(|p| cfg.provider_owner(p)).collect();
    let mut lab_owning = vec![None; n_l];
    for (idx, lab) in &labs {
        lab_owning[idx.0] = lab.owner;
    }
    let lab_owner: Vec<&str> = (0..n_l).map(|l| cfg.lab_owner(l, lab_owning[l])).collect();
    let owners: [Vec<&str>; 5] = [
        provider_owner.clone(),
        provider_owner.iter().chain(&lab_owner).copied().collect(),
        lab_owner.clone(),
        provider_owner.iter().chain(&lab_owner).copied().collect(),
        lab_owner.iter().chain(&provider_owner).copied().collect(),
    ];
    // Partial stakes between owners (live: `stake` events change them), as stakes in the
    // target's owner this month.
    let owner_of = |id: &str| -> Option<&str> {
        if let Some(p) = cfg.providers.get_index_of(id) {
            Some(provider_owner[p])
        } else {
            cfg.labs.get_index_of(id).map(|l| lab_owner[l])
        }
    };
    let stakes: Vec<Stake> = cfg
        .stakes
        .iter()
        .filter_map(|st| {
            Some(Stake {
                holder: st.owner.as_str(),
                firm: owner_of(&st.target)?,
                financial: st.share,
                control: st.control_weight(),
            })
        })
        .collect();

    let mut metrics = MetricValues::default();
    let mut share_rows = Vec::new();
    for ((m, amount), market) in amounts.iter().enumerate().zip(Market::all()) {
        // An empty market's shares are undefined: kept as 0 here (HHI and CR-n are 0), and
        // written blank to shares.csv.
        let s = shares(amount).unwrap_or_else(|| vec![0.0; amount.len()]);
        let f = &fringe[m];
        metrics[Metric::hhi(market)] = hhi_named(&s, f);
        metrics[Metric::hhi_owner(market)] = hhi_by_owner(&s, f, &owners[m]);
        metrics[Metric::cr3_owner(market)] = concentration_ratio_by_owner(&s, f, &owners[m], 3);
        metrics[Metric::mhhi(market)] = mhhi(&owner_shares(&s, f, &owners[m]), &stakes);
        metrics[Metric::cr1(market)] = concentration_ratio_named(&s, f, 1);
        metrics[Metric::cr3(market)] = concentration_ratio_named(&s, f, 3);
        let qs = shares(&quantities[m]).unwrap_or_else(|| vec![0.0; amount.len()]);
        // No new projects this month: the new-spend shares are undefined (blank).
        let ns = new_spend[m].as_ref().and_then(|n| shares(n));
        for (i, name) in agent_names[m].iter().enumerate() {
            share_rows.push(ShareRow {
                market,
                agent: (*name).to_string(),
                owner: owners[m][i].to_string(),
                fringe: f[i],
                share: s[i],
                amount: amount[i],
                quantity: quantities[m][i],
                quantity_share: qs[i],
                new_share: ns.as_ref().map(|n| n[i]),
            });
        }
    }

    let ai_spend: f64 = settlement.slot_spend.iter().sum();
    let month = &holdings.month;
    let count = month.enterprises.max(1) as f64;
    let direct_spend: f64 = amounts[1][n_p..].iter().sum();
    let rent_total: f64 = settlement.provider_rent.iter().sum();
    let mut capacity_total = 0.0;
    let mut price_weighted = 0.0;
    let mut agent_rows = Vec::with_capacity(n_p + n_l);
    let mut provider_rows: Vec<(usize, AgentRow)> = Vec::with_capacity(n_p);
    let pricing_cfg = &cfg.pricing;
    let trend = pricing::trend_factor(pricing_cfg.cost_trend_per_year, clock.tick);
    let capex = pricing_cfg.capex_per_gpu_usd * trend;
    let (mut provider_profit, mut lab_profit) = (0.0, 0.0);
    let (mut lerner_weighted, mut served_for_lerner) = (0.0, 0.0);
    for (idx, p) in &providers {
        let i = idx.0;
        let served = settlement.provider_served[i];
        let lerner = pricing::lerner(p.price, p.unit_cost);
        let profit = if p.active {
            capacity_total += p.capacity;
            price_weighted += p.capacity * p.price;
            lerner_weighted += served * lerner;
            served_for_lerner += served;
            pricing::provider_profit(
                settlement.provider_revenue[i],
                served,
                p.capacity,
                p.unit_cost,
                capex,
                pricing_cfg.depreciation_years,
                cfg.providers[i].target_utilisation,
            )
        } else {
            0.0
        };
        provider_profit += profit;
        provider_rows.push((
            i,
            AgentRow {
                kind: "provider",
                agent: layout.providers[i].clone(),
                owner: provider_owner[i].to_string(),
                price: p.price,
                capacity_kgpu: p.capacity,
                utilisation: p.utilisation,
                revenue_musd: settlement.provider_revenue[i],
                rent_share: Some(if ai_spend > 0.0 {
                    settlement.provider_rent[i] / ai_spend
                } else {
                    0.0
                }),
                quality: None,
                dependency: None,
                compute_kgpu: served,
                unit_cost: p.unit_cost,
                profit_musd: profit,
                lerner,
                cloud_price_index: Some(index[i]),
                cloud_lerner: Some(pricing::lerner(index[i], cloud_cost(i))),
                marketplace_margin: view.marketplace_margin.get(i).copied(),
            },
        ));
    }
    provider_rows.sort_by_key(|(i, _)| *i);
    let served_total: f64 = settlement.provider_served.iter().sum();
    let mut lab_rows: Vec<(usize, AgentRow)> = Vec::with_capacity(n_l);
    let mut qualities = Vec::new();
    let mut dependencies = Vec::new();
    for (idx, lab) in &labs {
        let l = idx.0;
        let dep = dependency(&settlement.lab_compute[l], n_p);
        if lab.active {
            qualities.push(lab.quality);
            dependencies.push(dep);
        }
        let own_cost = cfg.labs[l].own_unit_cost * trend;
        let profit = if lab.active {
            pricing::lab_profit(
                settlement.lab_revenue[l],
                settlement.lab_host_bills[l],
                settlement.lab_compute[l][n_p],
                own_cost,
            )
        } else {
            0.0
        };
        lab_profit += profit;
        let direct_price = view.slot_price[layout.slots.direct_slot(l)];
        lab_rows.push((
            l,
            AgentRow {
                kind: "lab",
                agent: layout.labs[l].clone(),
                owner: lab_owner[l].to_string(),
                price: direct_price,
                capacity_kgpu: lab.own_capacity,
                utilisation: settlement.lab_served_fraction[l],
                revenue_musd: settlement.lab_revenue[l],
                rent_share: None,
                quality: Some(lab.quality),
                dependency: Some(dep),
                compute_kgpu: settlement.lab_compute[l].iter().sum(),
                unit_cost: lab.avg_host_price,
                profit_musd: profit,
                lerner: pricing::lerner(direct_price, lab.avg_host_price),
                cloud_price_index: None,
                cloud_lerner: None,
                marketplace_margin: None,
            },
        ));
    }
    lab_rows.sort_by_key(|(i, _)| *i);
    agent_rows.extend(provider_rows.into_iter().map(|(_, r)| r));
    agent_rows.extend(lab_rows.into_iter().map(|(_, r)| r));

    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let n_slots = slots.n_slots();
    let cloud_inside: u64 = holdings.cloud[..n_p].iter().sum();
    let cloud_all = cloud_inside + holdings.cloud[n_p];
    let ai_all: u64 = holdings.ai.iter().sum();
    let new_cloud_all: u64 = month.new_cloud.iter().sum();
    let new_ai_all: u64 = month.new_ai.iter().sum();
    let r = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    metrics[Metric::SwitchingRate] = month.ai_switches as f64 / count;
    metrics[Metric::ProviderSwitchingRate] = month.channel_switches as f64 / count;
    metrics[Metric::MigrationRate] = month.cloud_movers as f64 / count;
    metrics[Metric::PrimarySwitchingRate] = month.primary_switches as f64 / count;
    metrics[Metric::WorkloadSwitchingRate] = r(month.cloud_moved, cloud_inside);
    metrics[Metric::FullExitRate] = month.exits as f64 / count;
    metrics[Metric::MultiCloudShare] = holdings.multi_cloud as f64 / count;
    metrics[Metric::MultiModelShare] = r(holdings.multi_model, holdings.ai_users);
    metrics[Metric::CloudOutsideShare] = r(holdings.cloud[n_p], cloud_all);
    metrics[Metric::CloudNewOutsideShare] = r(month.new_cloud[n_p], new_cloud_all);
    metrics[Metric::AiOutsideShare] = r(holdings.ai[n_slots], ai_all);
    metrics[Metric::AiNewOutsideShare] = r(month.new_ai[n_slots], new_ai_all);
    metrics[Metric::CloudPriceElasticity] = -cfg.enterprise.cloud_price_weight * metrics[Metric::CloudNewOutsideShare];
    metrics[Metric::AiPriceElasticity] = -cfg.enterprise.price_weight * metrics[Metric::AiNewOutsideShare];
    metrics[Metric::AiSpendMusd] = ai_spend;
    metrics[Metric::OpenWeightShare] = if ai_spend > 0.0 {
        open_weight_spend / ai_spend
    } else {
        0.0
    };
    metrics[Metric::CloudSpendMusd] = amounts[0].iter().sum();
    metrics[Metric::InfrastructureRent] = ratio(rent_total, ai_spend);
    metrics[Metric::DirectApiShare] = ratio(direct_spend, ai_spend);
    metrics[Metric::MeanComputePrice] = ratio(price_weighted, capacity_total);
    metrics[Metric::MeanUtilisation] = ratio(served_total, capacity_total);
    metrics[Metric::FrontierQuality] = frontier_quality(&qualities);
    metrics[Metric::MaxLabDependency] = dependencies.iter().copied().fold(0.0, f64::max);
    metrics[Metric::MeanLabDependency] = ratio(dependencies.iter().sum(), dependencies.len() as f64);
    metrics[Metric::MeanComputeLerner] = ratio(lerner_weighted, served_for_lerner);
    metrics[Metric::ProviderProfitMusd] = provider_profit;
    metrics[Metric::LabProfitMusd] = lab_profit;
    let ai_units_all: u64 = holdings.ai.iter().sum();
    metrics[Metric::ConsumerSurplusAiMusd] =
        pricing::spend_musd(ai_units_all as f64 * demand.ai_kgpu_per_unit, view.ai_surplus_per_unit);
    metrics[Metric::ConsumerSurplusCloudMusd] =
        (cloud_all as f64) * demand.cloud_musd_per_unit * view.cloud_surplus_per_unit;
    metrics[Metric::AiSurplusReferenceRatio] = view.ai_reference_ratio;
    metrics[Metric::CloudSurplusReferenceRatio] = view.cloud_reference_ratio;
    metrics[Metric::AiMarginalUtilityOfMoney] = view.ai_marginal_utility;
    metrics[Metric::CloudMarginalUtilityOfMoney] = view.cloud_marginal_utility;
    // The AI layer's welfare; the general-cloud layer's is reported beside it.
    metrics[Metric::TotalWelfareMusd] = metrics[Metric::ConsumerSurplusAiMusd] + provider_profit + lab_profit;
    let margin = |p: usize| index[p] - cloud_cost(p);
    let cloud_margin_units: f64 = (0..n_p).map(|p| holdings.cloud[p] as f64 * margin(p)).sum();
    metrics[Metric::CloudProfitMusd] = cloud_margin_units * demand.cloud_musd_per_unit;
    metrics[Metric::CloudWelfareMusd] = metrics[Metric::ConsumerSurplusCloudMusd] + metrics[Metric::CloudProfitMusd];
    metrics[Metric::MeanCloudPriceIndex] = ratio(
        (0..n_p).map(|p| holdings.cloud[p] as f64 * index[p]).sum(),
        cloud_quantity_total,
    );
    metrics[Metric::MeanCloudLerner] = ratio(
        (0..n_p)
            .filter(|&p| index[p] > 0.0)
            .map(|p| holdings.cloud[p] as f64 * margin(p) / index[p])
            .sum(),
        cloud_quantity_total,
    );
    let (margin_kgpu, marketplace_kgpu) = settlement
        .slot_kgpu
        .iter()
        .enumerate()
        .filter_map(|(slot, &q)| slots.provider_of_channel(slots.split(slot).0).map(|p| (p, q)))
        .fold((0.0, 0.0), |(mq, total), (p, q)| {
            let m = view.marketplace_margin.get(p).copied().unwrap_or(0.0);
            (mq + m * q, total + q)
        });
    metrics[Metric::MeanMarketplaceMargin] = ratio(margin_kgpu, marketplace_kgpu);
    if fault.0.is_none()
        && let Some(m) = metrics.first_non_finite()
    {
        fault.0 = Some(format!(
            "non-finite value of {} at {} (parameters that feed it: {})",
            m.name(),
            clock.month(),
            crate::config::bounds::suspects(m.name())
        ));
    }

    *report = TickReport {
        tick: clock.tick,
        date: clock.month().to_string(),
        metrics,
        shares: share_rows,
        agents: agent_rows,
    };
}
