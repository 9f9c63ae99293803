//! AI labs: their state, spawning, and lookup by index.

use bevy_ecs::prelude::*;

use super::operates_at;
use crate::config::{Config, Month};

/// Index of a lab in config order.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabIdx(pub usize);

/// A lab's evolving state.
#[derive(Component, Debug, Clone)]
pub struct LabState {
    /// Whether the lab operates (entered the market).
    pub active: bool,
    /// Effective training-compute stock, kGPU-months.
    pub stock: f64,
    /// Model quality, `ln(stock)`.
    pub quality: f64,
    /// Provider owning the lab (first-party), if any.
    pub owner: Option<usize>,
    /// Quality gap of a released open-weight model, if one was released.
    pub open_release_gap: Option<f64>,
    /// Whether the lab lists on open marketplaces (an acquisition may end this).
    pub marketplace_listing: bool,
    /// Share of rented compute on each provider.
    pub hosts: Vec<f64>,
    /// Own data-centre capacity, kGPU.
    pub own_capacity: f64,
    /// Training compute demanded this month, kGPU.
    pub training_kgpu: f64,
    /// Direct-API inference compute demanded this month, kGPU.
    pub inference_kgpu: f64,
    /// Training productivity this month (moving clusters costs some).
    pub efficiency: f64,
    /// Enterprise-derived revenue last month (after revenue shares), US$ M.
    pub revenue: f64,
    /// Training budget this month before reinvested revenue, US$ M.
    pub budget: f64,
    /// Training compute served last month, kGPU.
    pub served_training: f64,
    /// Average price per GPU-hour of the lab's hosting (own capacity at own cost, rented compute
    /// at its contract prices).
    pub avg_host_price: f64,
    /// Contract price of its compute on each provider, US$/GPU-hour (`econ::allocation::contract_prices`).
    pub contract_prices: Vec<f64>,
    /// Credits the lab plans to draw on each provider this month, US$ M.
    pub credit_draw: Vec<f64>,
    /// Commitment excused on each provider this month (it could not supply it), US$ M.
    pub excused: Vec<f64>,
    /// Cash, US$ M (`econ::finance`): funding and revenue in, cash compute bills out.
    pub cash: f64,
}

/// Spawns one entity per configured lab, in config order: stock and quality from
/// `compute_stock`, last month's served training at the steady state `δ · stock` (so quality
/// does not jump), no hosts yet (the allocation fills them), and the mean provider price as the
/// initial hosting price.
pub fn spawn_labs(world: &mut World, config: &Config, start: Month) {
    let n_p = config.providers.len();
    let mean_price = config.providers.values().map(|p| p.price).sum::<f64>() / n_p as f64;
    for (l, lab) in config.labs.values().enumerate() {
        world.spawn((
            LabIdx(l),
            LabState {
                active: operates_at(&lab.entry, start),
                stock: lab.compute_stock,
                quality: crate::econ::quality::quality(lab.compute_stock),
                owner: lab.owner.as_ref().and_then(|o| config.providers.get_index_of(o)),
                open_release_gap: None,
                marketplace_listing: lab.marketplace_listing,
                hosts: vec![0.0; n_p],
                // Compute already rented at tick 0 was contracted at the configured prices.
                contract_prices: config.providers.values().map(|p| p.price).collect(),
                own_capacity: lab.own_capacity_kgpu,
                training_kgpu: 0.0,
                inference_kgpu: 0.0,
                efficiency: 1.0,
                revenue: 0.0,
                budget: lab.training_budget_musd,
                served_training: config.lab_behaviour.stock_depreciation * lab.compute_stock,
                avg_host_price: mean_price,
                credit_draw: vec![0.0; n_p],
                excused: vec![0.0; n_p],
                cash: lab.initial_cash_musd,
            },
        ));
    }
}

/// Runs `f` on lab `l`'s state, if it exists.
pub fn with_lab<R>(world: &mut World, l: usize, f: impl FnOnce(&mut LabState) -> R) -> Option<R> {
    let mut q = world.query::<(&LabIdx, &mut LabState)>();
    q.iter_mut(world).find(|(i, _)| i.0 == l).map(|(_, mut s)| f(&mut s))
}

/// Every lab's state in index order (cloned).
pub fn lab_states(world: &mut World) -> Vec<LabState> {
    let mut q = world.query::<(&LabIdx, &LabState)>();
    let mut all: Vec<(usize, LabState)> = q.iter(world).map(|(i, s)| (i.0, s.clone())).collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, s)| s).collect()
}
