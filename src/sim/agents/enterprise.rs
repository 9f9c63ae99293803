//! Enterprises: one small component holding their workload portfolio, and drawing the
//! population with its late-2025 footprint.
//!
//! All of an enterprise's state is one 36-byte component (`econ::portfolio::Portfolio`) so that
//! the world stays under 100 bytes per enterprise including bevy's bookkeeping (one pair of
//! change ticks per component).

use bevy_ecs::prelude::*;

use crate::config::Config;
use crate::econ::choice::NO_OPTION;
use crate::econ::choice::{AiContext, AiPick};
use crate::econ::population::{categorical, pareto_size};
use crate::econ::portfolio::{CLOUD_SLOTS, NO_CLOUD, Portfolio, Tally};
use crate::sim::resources::{Clock, Holdings, Layout, MarketView};
use crate::sim::rng::{Purpose, SETUP_TICK, Stream};

/// An enterprise: its workloads across clouds and model options.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Enterprise(pub Portfolio);

/// Draws the population from the counter-based streams: enterprise `i` is the same enterprise
/// whatever the population size, which keeps runs of different sizes comparable. Each enterprise
/// gets its size, suite, and its initial cloud projects: on-premises with probability
/// `initial_cloud_outside_share`, else on a provider drawn ∝ `home_share / cloud_price_index`
/// (spend = units × index, so expected spend shares equal `home_share`). Returns the holdings.
pub fn spawn_enterprises(world: &mut World, config: &Config) -> Holdings {
    let seed = config.run.seed;
    let e = &config.enterprise;
    let size_draw = Stream::new(seed, SETUP_TICK, Purpose::InitSize);
    let home_draw = Stream::new(seed, SETUP_TICK, Purpose::InitHome);
    let suite_draw = Stream::new(seed, SETUP_TICK, Purpose::InitSuite);
    let tenure_draw = Stream::new(seed, SETUP_TICK, Purpose::InitTenure);
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
    let n_p = config.providers.len();
    let n_slots = (n_p + config.labs.len()) * config.labs.len();
    let mut holdings = Holdings::new(n_p, n_slots);
    let outside_share = config.demand.initial_cloud_outside_share;
    let units = e.initial_project_units as u16;
    world.spawn_batch((0..config.run.enterprises).map(|id| {
        let key = u64::from(id);
        let size = pareto_size(size_draw.unit(key), e.size_pareto_alpha, e.size_max_ratio);
        let suite = categorical(suite_draw.unit(key), &suite_shares);
        let mut p = Portfolio::empty(id, size, suite as u8);
        // Tenure as of tick 0, the first tick of every run.
        p.set_tenure(
            (tenure_draw.unit(key) * f64::from(e.lock_in_cap_months.min(254) + 1)) as u8,
            0,
        );
        let mut bits = home_draw.bits(key);
        for project in 0..e.initial_cloud_projects {
            // Two fresh uniforms per project from a chain of mixes of the enterprise's draw.
            bits = crate::sim::rng::mix64(bits ^ u64::from(project));
            let (u, v) = (
                (bits >> 11) as f64 / (1u64 << 53) as f64,
                (bits & 0xFFFF) as f64 / 65_536.0,
            );
            if v < outside_share || p.n_clouds() == CLOUD_SLOTS {
                p.cloud_outside += units;
                holdings.cloud[n_p] += u64::from(size) * u64::from(units);
            } else {
                let c = categorical(u, &home_shares);
                let slot = p.cloud.iter().position(|&x| usize::from(x) == c);
                let j = slot.unwrap_or_else(|| p.cloud.iter().position(|&x| x == NO_CLOUD).expect("a free slot"));
                p.cloud[j] = c as u8;
                p.cloud_units[j] += units;
                holdings.cloud[c] += u64::from(size) * u64::from(units);
            }
        }
        Enterprise(p)
    }));
    holdings
}

/// Initialisation: every enterprise places its initial AI projects by the logit of the initial
/// market (no switching costs, the outside option included; draws at the set-up tick).
pub fn choose_initial_portfolios(
    view: Res<MarketView>,
    clock: Res<Clock>,
    layout: Res<Layout>,
    params: Res<crate::sim::resources::Params>,
    mut holdings: ResMut<Holdings>,
    mut enterprises: Query<&mut Enterprise>,
) {
    let draw = Stream::new(clock.seed, SETUP_TICK, Purpose::InitAi);
    let e = &params.0.enterprise;
    let n_slots = layout.slots.n_slots();
    let mut tally = Tally::new(layout.n_providers(), n_slots);
    for mut ent in &mut enterprises {
        let p = &mut ent.0;
        if p.ai_total() > 0 {
            continue;
        }
        let size = u64::from(p.size);
        let mut held = [0usize; CLOUD_SLOTS];
        let n_held = p.held_clouds(&mut held);
        let suite = usize::from(p.suite).checked_sub(1);
        let mut bits = draw.bits(u64::from(p.id));
        // The first project is the primary: `initial_primary_share` of the initial AI units.
        let total = f64::from(e.initial_ai_projects * e.initial_project_units);
        let first = (total * e.initial_primary_share).round().max(1.0) as u16;
        let rest = if e.initial_ai_projects > 1 {
            ((total - f64::from(first)) / f64::from(e.initial_ai_projects - 1))
                .round()
                .max(1.0) as u16
        } else {
            0
        };
        for project in 0..e.initial_ai_projects {
            let units = if project == 0 { first } else { rest };
            let mut vendors = [0usize; crate::econ::portfolio::AI_SLOTS];
            let n_vendors = p.vendors(layout.n_labs(), &mut vendors);
            let cx = AiContext {
                held: &held[..n_held],
                suite,
                vendors: &vendors[..n_vendors],
            };
            bits = crate::sim::rng::mix64(bits ^ u64::from(project));
            let u = (bits >> 11) as f64 / (1u64 << 53) as f64;
            let full = p.ai.iter().all(|&o| o != NO_OPTION);
            match view.choice.choose(&cx, None, 1.0, u) {
                AiPick::Slot(k) if !full || p.ai.iter().any(|&o| usize::from(o) == k) => {
                    let j =
                        p.ai.iter()
                            .position(|&o| usize::from(o) == k)
                            .or_else(|| p.ai.iter().position(|&o| o == NO_OPTION))
                            .expect("a slot");
                    p.ai[j] = k as u16;
                    p.ai_units[j] += units;
                    tally.ai[k] += (size * u64::from(units)) as i64;
                }
                _ => {
                    p.ai_outside += units;
                    tally.ai[n_slots] += (size * u64::from(units)) as i64;
                }
            }
        }
        let (multi_cloud, multi_model, ai_user) = crate::econ::portfolio::flags(p, layout.n_labs());
        tally.multi_cloud += i64::from(multi_cloud);
        tally.multi_model += i64::from(multi_model);
        tally.ai_users += i64::from(ai_user);
    }
    holdings.apply(tally);
}
