//! One test per tick phase: each runs a single system on a small world set up by hand
//! (`World::run_system_once`) and checks its effect against the documented equation.

use bevy_ecs::prelude::*;
use bevy_ecs::system::RunSystemOnce;

use super::{demand, enterprises, labs, measure, providers, settlement};
use crate::config::{self, Config, Market, Metric};
use crate::econ::choice::NO_OPTION;
use crate::sim::agents::{Enterprise, LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::resources::{Clock, Holdings, Layout, MarketView, Settlement, TickReport};
use crate::sim::world::Simulation;

/// A small baseline world after initialisation (no tick run yet).
fn world(overrides: &[&str]) -> (Config, World) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
    let mut all = vec!["run.enterprises=500".to_string(), "run.ticks=12".to_string()];
    all.extend(overrides.iter().map(|s| s.to_string()));
    let config = config::load(&path, &all).expect("valid config");
    let sim = Simulation::new(&config);
    (config, sim.into_world())
}

fn set_tick(world: &mut World, tick: u32) {
    world.resource_mut::<Clock>().tick = tick;
}

fn lab_state(world: &mut World, l: usize) -> LabState {
    crate::sim::agents::lab::lab_states(world).swap_remove(l)
}

fn provider_state(world: &mut World, p: usize) -> ProviderState {
    crate::sim::agents::provider::provider_states(world).swap_remove(p)
}

#[test]
fn phase_1_lab_budgets_compound_by_the_monthly_factor() {
    let (config, mut world) = world(&[]);
    set_tick(&mut world, 1);
    let before = lab_state(&mut world, 0).budget;
    world.run_system_once(demand::advance_demand).unwrap();
    let g = (1.0 + config.labs[0].budget_growth_per_year).powf(1.0 / 12.0);
    assert!((lab_state(&mut world, 0).budget - before * g).abs() < 1e-9);
    // Tick 0 is the initial level: nothing compounds.
    set_tick(&mut world, 0);
    let now = lab_state(&mut world, 0).budget;
    world.run_system_once(demand::advance_demand).unwrap();
    assert_eq!(lab_state(&mut world, 0).budget, now);
}

#[test]
fn phase_2_quality_follows_the_served_training_stock() {
    let (config, mut world) = world(&[]);
    let mut q = world.query::<(&LabIdx, &mut LabState)>();
    for (idx, mut lab) in q.iter_mut(&mut world) {
        if idx.0 == 0 {
            lab.served_training = 500.0;
            lab.efficiency = 0.8;
        }
    }
    let before = lab_state(&mut world, 0);
    world.run_system_once(labs::update_lab_quality).unwrap();
    let after = lab_state(&mut world, 0);
    let delta = config.lab_behaviour.stock_depreciation;
    let stock = (1.0 - delta) * before.stock + 0.8 * 500.0;
    assert!((after.stock - stock).abs() < 1e-9);
    assert!((after.quality - stock.ln()).abs() < 1e-12);
}

#[test]
fn phase_2_the_compute_plan_respects_an_exclusivity_floor() {
    // Mistral has no commitments, so its exclusivity floor is the only floor.
    let (_, mut world) = world(&["contracts.msft_mistral.min_compute_share=0.9"]);
    let mistral = world
        .resource::<Layout>()
        .labs
        .iter()
        .position(|l| l == "mistral")
        .unwrap();
    let azure = world
        .resource::<Layout>()
        .providers
        .iter()
        .position(|p| p == "azure")
        .unwrap();
    let mut q = world.query::<(&LabIdx, &mut LabState)>();
    for (idx, mut lab) in q.iter_mut(&mut world) {
        if idx.0 == mistral {
            lab.hosts = vec![0.0, 0.5, 0.0, 0.0, 0.0, 0.5];
        }
    }
    world.run_system_once(labs::plan_lab_compute).unwrap();
    let lab = lab_state(&mut world, mistral);
    assert!((lab.hosts[azure] - 0.9).abs() < 1e-12, "{:?}", lab.hosts);
    assert!((lab.hosts.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn phase_3_prices_rise_with_load_above_target_and_offerings_follow_licences() {
    // The utilisation rule (the best-response rule has its own tests, tests/pricing.rs).
    let (config, mut world) = world(&["pricing.rule=utilisation"]);
    let mut q = world.query::<(&ProviderIdx, &mut ProviderState)>();
    for (idx, mut p) in q.iter_mut(&mut world) {
        if idx.0 == 0 {
            p.load = 1.05;
        }
    }
    let before = provider_state(&mut world, 0);
    world.run_system_once(providers::run_providers).unwrap();
    let after = provider_state(&mut world, 0);
    let cfg = &config.providers[0];
    let expected = before.price * (1.0 + cfg.price_response * (1.05 - cfg.target_utilisation));
    assert!((after.price - expected).abs() < 1e-12);

    world.run_system_once(providers::publish_offerings).unwrap();
    let layout = world.resource::<Layout>().clone();
    let view = world.resource::<MarketView>();
    // The welfare money metric: a positive surplus per workload, and its reference set.
    assert!(view.ai_surplus_per_unit > 0.0 && view.ai_reference_mu0 > 0.0);
    let openai = layout.labs.iter().position(|l| l == "openai").unwrap();
    let azure = layout.providers.iter().position(|p| p == "azure").unwrap();
    // OpenAI's exclusive licence: on Azure's marketplace, on no other.
    for p in 0..layout.n_providers() {
        assert_eq!(
            view.offered[layout.slots.marketplace_slot(p, openai)],
            p == azure,
            "provider {p}"
        );
    }
    assert!(view.offered[layout.slots.direct_slot(openai)]);
}

#[test]
fn phase_4_enterprises_on_a_withdrawn_option_all_move_and_holdings_stay_exact() {
    let (_, mut world) = world(&[]);
    let layout = world.resource::<Layout>().clone();
    let openai = layout.labs.iter().position(|l| l == "openai").unwrap();
    let openai_slots: Vec<usize> = (0..layout.slots.n_slots())
        .filter(|&k| layout.slots.split(k).1 == openai)
        .collect();
    let on_openai = |h: &Holdings| openai_slots.iter().map(|&k| h.ai[k]).sum::<u64>();
    assert!(on_openai(world.resource::<Holdings>()) > 0);
    // OpenAI stops operating: its options are withdrawn from this month's offerings.
    let mut q = world.query::<(&LabIdx, &mut LabState)>();
    for (idx, mut lab) in q.iter_mut(&mut world) {
        if idx.0 == openai {
            lab.active = false;
        }
    }
    world.run_system_once(providers::publish_offerings).unwrap();
    // No growth this month, so AI units only move.
    world.resource_mut::<MarketView>().ai_project_size = 0.0;
    let before: u64 = world.resource::<Holdings>().ai.iter().sum();
    set_tick(&mut world, 1);
    world.run_system_once(enterprises::review_sourcing).unwrap();
    let holdings = world.resource::<Holdings>().clone();
    assert_eq!(holdings.ai.iter().sum::<u64>(), before);
    assert_eq!(on_openai(&holdings), 0, "nobody stays on a withdrawn option");
    // The incremental holdings equal a recount of every portfolio.
    let n_slots = layout.slots.n_slots();
    let mut recount = vec![0u64; n_slots + 1];
    let mut q = world.query::<&Enterprise>();
    for e in q.iter(&world) {
        let p = &e.0;
        for j in 0..p.ai.len() {
            if p.ai[j] != NO_OPTION {
                recount[usize::from(p.ai[j])] += u64::from(p.size) * u64::from(p.ai_units[j]);
            }
        }
        recount[n_slots] += u64::from(p.size) * u64::from(p.ai_outside);
    }
    assert_eq!(recount, holdings.ai);
}

#[test]
fn phase_5_settlement_sets_load_as_demand_over_capacity() {
    let (_, mut world) = world(&[]);
    world.run_system_once(settlement::settle_market).unwrap();
    let flows = world.resource::<Settlement>().0.clone();
    for p in 0..flows.provider_demand.len() {
        let state = provider_state(&mut world, p);
        if state.capacity > 0.0 {
            assert!((state.load - flows.provider_demand[p] / state.capacity).abs() < 1e-12);
            assert!(flows.provider_served[p] <= state.capacity * (1.0 + 1e-12));
        }
    }
    let revenue: Vec<f64> = crate::sim::agents::lab::lab_states(&mut world)
        .iter()
        .map(|l| l.revenue)
        .collect();
    assert_eq!(revenue, flows.lab_revenue);
}

#[test]
fn phase_6_measurement_reports_the_hhi_of_its_own_share_rows() {
    let (config, mut world) = world(&[]);
    world.run_system_once(measure::measure_markets).unwrap();
    let report = world.resource::<TickReport>().clone();
    let fringe: Vec<bool> = config.providers.values().map(|p| p.fringe).collect();
    let hhi: f64 = report
        .shares
        .iter()
        .filter(|r| r.market == Market::Cloud)
        .zip(&fringe)
        .filter(|(_, f)| !**f)
        .map(|(r, _)| (100.0 * r.share).powi(2))
        .sum();
    assert!((report.metrics[Metric::HhiCloud] - hhi).abs() < 1e-9);
    assert!(report.metrics[Metric::HhiCloud] > 1000.0);
}
