//! Cloud providers: their state, spawning, and lookup by index.

use bevy_ecs::prelude::*;

use super::operates_at;
use crate::config::{Config, Month};
use crate::econ::capacity::Pipeline;

/// Index of a provider in config order (also its index in every per-provider array).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderIdx(pub usize);

/// A provider's evolving state.
#[derive(Component, Debug, Clone)]
pub struct ProviderState {
    /// Whether the provider operates (entered the market).
    pub active: bool,
    /// AI compute capacity in service, kGPU.
    pub capacity: f64,
    /// Capacity under construction.
    pub pipeline: Pipeline,
    /// Compute price, US$ per GPU-hour.
    pub price: f64,
    /// This month's unit cost (trend and cycle applied), US$ per GPU-hour.
    pub unit_cost: f64,
    /// The part of this month's price above the best response that clears capacity (0 when
    /// capacity does not bind), US$ per GPU-hour.
    pub shadow_price: f64,
    /// Last month's demand over capacity (may exceed 1).
    pub load: f64,
    /// Last month's served compute over capacity, in [0, 1].
    pub utilisation: f64,
    /// Scheduled deliveries of an entry ramp, one per month, kGPU.
    pub ramp: std::collections::VecDeque<f64>,
}

/// Spawns one entity per configured provider, in config order. Capacity starts at its
/// configured level with a build pipeline pre-filled at the baseline investment rate (steady
/// state), and last month's load and utilisation at the target.
pub fn spawn_providers(world: &mut World, config: &Config, start: Month) {
    for (i, p) in config.providers.values().enumerate() {
        world.spawn((
            ProviderIdx(i),
            ProviderState {
                active: operates_at(&p.entry, start),
                capacity: p.capacity_kgpu,
                pipeline: Pipeline::steady(p.build_lag_months, p.capacity_kgpu * p.invest_rate),
                price: p.price,
                unit_cost: p.unit_cost,
                shadow_price: 0.0,
                load: p.target_utilisation,
                utilisation: p.target_utilisation,
                ramp: Default::default(),
            },
        ));
    }
}

/// Runs `f` on provider `p`'s state, if it exists.
pub fn with_provider<R>(world: &mut World, p: usize, f: impl FnOnce(&mut ProviderState) -> R) -> Option<R> {
    let mut q = world.query::<(&ProviderIdx, &mut ProviderState)>();
    q.iter_mut(world).find(|(i, _)| i.0 == p).map(|(_, mut s)| f(&mut s))
}

/// Every provider's state in index order (cloned).
pub fn provider_states(world: &mut World) -> Vec<ProviderState> {
    let mut q = world.query::<(&ProviderIdx, &ProviderState)>();
    let mut all: Vec<(usize, ProviderState)> = q.iter(world).map(|(i, s)| (i.0, s.clone())).collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, s)| s).collect()
}
