//! Enterprises: their two small components, and drawing the population.
//!
//! Enterprises carry two small components (traits that never change, and their sourcing that
//! does) so that the world stays under 100 bytes per enterprise including bevy's bookkeeping.

use bevy_ecs::prelude::*;

use crate::config::Config;
use crate::econ::choice::NO_OPTION;
use crate::econ::population::{categorical, pareto_size};
use crate::sim::resources::Holdings;
use crate::sim::rng::{Purpose, SETUP_TICK, Stream};

/// Enterprise traits fixed at creation.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnterpriseTraits {
    /// Stable agent id: the key of every random draw of this enterprise.
    pub id: u32,
    /// Size in spend units (Pareto distributed); spend is proportional to size.
    pub size: u32,
    /// Productivity suite: 0 = none, p + 1 = provider p's suite.
    pub suite: u8,
}

/// Where an enterprise's workloads live and who serves its AI.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sourcing {
    /// Current AI option slot (`channel · n_labs + lab`), or `NO_OPTION` before the first choice.
    pub option: u16,
    /// Months on the current AI option (drives integration lock-in).
    pub tenure: u16,
    /// Cloud home provider.
    pub home: u8,
}
/// Draws the population from the counter-based streams: enterprise `i` is the same enterprise
/// whatever the population size, which keeps runs of different sizes comparable.
pub fn spawn_enterprises(world: &mut World, config: &Config, n_p: usize, n_slots: usize) -> Holdings {
    let seed = config.run.seed;
    let e = &config.enterprise;
    let size_draw = Stream::new(seed, SETUP_TICK, Purpose::InitSize);
    let home_draw = Stream::new(seed, SETUP_TICK, Purpose::InitHome);
    let suite_draw = Stream::new(seed, SETUP_TICK, Purpose::InitSuite);
    let tenure_draw = Stream::new(seed, SETUP_TICK, Purpose::InitTenure);
    // home_share is a share of cloud spend; spend = size × price index, so homes are drawn
    // ∝ share / index to make expected spend shares equal the configured ones.
    let home_shares: Vec<f64> = config
        .providers
        .values()
        .map(|p| p.home_share / p.cloud_price_index)
        .collect();
    let home_total: f64 = home_shares.iter().sum();
    let home_shares: Vec<f64> = home_shares.iter().map(|s| s / home_total).collect();
    let suite_total: f64 = config.providers.values().map(|p| p.suite_share).sum();
    let suite_shares: Vec<f64> = std::iter::once((1.0 - suite_total).max(0.0))
        .chain(config.providers.values().map(|p| p.suite_share))
        .collect();
    let mut home_size = vec![0u64; n_p];
    let mut total_size = 0u64;
    world.spawn_batch((0..config.run.enterprises).map(|id| {
        let key = u64::from(id);
        let size = pareto_size(size_draw.unit(key), e.size_pareto_alpha, e.size_max_ratio);
        let home = categorical(home_draw.unit(key), &home_shares);
        let suite = categorical(suite_draw.unit(key), &suite_shares);
        let tenure = (tenure_draw.unit(key) * f64::from(e.lock_in_cap_months + 1)) as u16;
        home_size[home] += u64::from(size);
        total_size += u64::from(size);
        (
            EnterpriseTraits {
                id,
                size,
                suite: suite as u8,
            },
            Sourcing {
                option: NO_OPTION,
                tenure,
                home: home as u8,
            },
        )
    }));
    Holdings {
        option_size: vec![0; n_slots],
        home_size,
        total_size,
        count: u64::from(config.run.enterprises),
        switches: 0,
        provider_switches: 0,
        migrations: 0,
        egress_size: vec![0; n_slots],
    }
}
