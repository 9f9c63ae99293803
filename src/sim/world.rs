//! Building a run's world from a config and stepping it: [`Simulation`].

use bevy_ecs::prelude::*;

use crate::config::{Config, ContractConfig, Month};
use crate::econ::capacity::Pipeline;
use crate::econ::choice::NO_OPTION;
use crate::econ::population::{categorical, pareto_size};
use crate::sim::components::{EnterpriseTraits, LabIdx, LabState, ProviderIdx, ProviderState, Sourcing};
use crate::sim::events::{EventLog, EventQueue};
use crate::sim::resources::{
    Clock, Contract, Contracts, Demand, Fault, Holdings, Layout, MarketView, Params, Policy, Settlement, TickReport,
};
use crate::sim::rng::{Purpose, SETUP_TICK, Stream};
use crate::sim::schedule::{startup_schedule, tick_schedule};

/// One run: its world and its tick schedule.
pub struct Simulation {
    world: World,
    schedule: Schedule,
    next_tick: u32,
    ticks: u32,
}

impl Simulation {
    /// Builds the world of a validated config (population drawn, first choices made).
    pub fn new(config: &Config) -> Simulation {
        let mut world = World::new();
        let start = Month::parse(&config.run.start).expect("validated config");
        let clock = Clock {
            tick: 0,
            start,
            seed: config.run.seed,
        };
        let layout = Layout::new(
            config.providers.keys().cloned().collect(),
            config.labs.keys().cloned().collect(),
        );
        let n_p = layout.n_providers();
        let n_slots = layout.slots.n_slots();

        let contracts = config
            .contracts
            .iter()
            .map(|(id, c)| {
                let lab = config.labs.get_index_of(&c.lab).expect("validated");
                let provider = config.providers.get_index_of(&c.provider).expect("validated");
                contract_from_config(id, c, lab, provider, &clock)
            })
            .collect();

        let operates = |entry: &Option<String>| {
            entry
                .as_deref()
                .is_none_or(|m| Month::parse(m).is_ok_and(|m| m <= start))
        };
        let mean_price = config.providers.values().map(|p| p.price).sum::<f64>() / n_p as f64;
        for (i, p) in config.providers.values().enumerate() {
            world.spawn((
                ProviderIdx(i),
                ProviderState {
                    active: operates(&p.entry),
                    capacity: p.capacity_kgpu,
                    pipeline: Pipeline::steady(p.build_lag_months, p.capacity_kgpu * p.invest_rate),
                    price: p.price,
                    load: p.target_utilisation,
                    utilisation: p.target_utilisation,
                    ramp: Default::default(),
                },
            ));
        }
        for (l, lab) in config.labs.values().enumerate() {
            world.spawn((
                LabIdx(l),
                LabState {
                    active: operates(&lab.entry),
                    stock: lab.compute_stock,
                    quality: crate::econ::quality::quality(lab.compute_stock),
                    owner: lab.owner.as_ref().and_then(|o| config.providers.get_index_of(o)),
                    open_release_gap: None,
                    marketplace_listing: lab.marketplace_listing,
                    hosts: vec![0.0; n_p],
                    own_capacity: lab.own_capacity_kgpu,
                    training_kgpu: 0.0,
                    inference_kgpu: 0.0,
                    efficiency: 1.0,
                    revenue: 0.0,
                    budget: lab.training_budget_musd,
                    served_training: config.lab_behaviour.stock_depreciation * lab.compute_stock,
                    avg_host_price: mean_price,
                },
            ));
        }

        // Resources are entities with sparse-set storage indexed by entity index: a resource
        // spawned after N enterprises costs 4 bytes per enterprise. So every resource (and
        // whatever the schedules register) is created first, then the enterprises are spawned.
        world.insert_resource(Params(config.clone()));
        world.insert_resource(clock);
        world.insert_resource(layout);
        world.insert_resource(Policy::default());
        world.insert_resource(Contracts(contracts));
        world.insert_resource(Demand {
            ai_kgpu: config.demand.ai_inference_kgpu,
            cloud_musd: config.demand.cloud_spend_musd,
        });
        world.insert_resource(EventQueue::from_config(config, start));
        world.insert_resource(EventLog::default());
        world.insert_resource(Fault::default());
        world.insert_resource(TickReport::default());
        world.insert_resource(Settlement::default());
        world.insert_resource(MarketView::default());
        world.insert_resource(Holdings::default());
        let mut startup = startup_schedule();
        startup.initialize(&mut world).expect("the startup schedule is valid");
        let mut schedule = tick_schedule();
        schedule.initialize(&mut world).expect("the tick schedule is valid");

        let holdings = spawn_enterprises(&mut world, config, n_p, n_slots);
        world.insert_resource(holdings);
        startup.run(&mut world);
        Simulation {
            world,
            schedule,
            next_tick: 0,
            ticks: config.run.ticks,
        }
    }

    /// Runs the next tick and returns its report, or the fault that invalidated it.
    pub fn step(&mut self) -> Result<&TickReport, String> {
        self.world.resource_mut::<Clock>().tick = self.next_tick;
        self.schedule.run(&mut self.world);
        self.next_tick += 1;
        if let Some(fault) = self.world.resource::<Fault>().0.clone() {
            return Err(fault);
        }
        Ok(self.world.resource::<TickReport>())
    }

    /// Ticks already run.
    pub fn ticks_done(&self) -> u32 {
        self.next_tick
    }

    /// Ticks in the run.
    pub fn ticks(&self) -> u32 {
        self.ticks
    }

    /// The world (for inspection by tests and tools).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The world, mutably (for tests that set up a situation by hand).
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }
}

/// Draws the population from the counter-based streams: enterprise `i` is the same enterprise
/// whatever the population size, which keeps runs of different sizes comparable.
fn spawn_enterprises(world: &mut World, config: &Config, n_p: usize, n_slots: usize) -> Holdings {
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

/// Live state of a configured contract (indices already resolved).
fn contract_from_config(id: &str, c: &ContractConfig, lab: usize, provider: usize, clock: &Clock) -> Contract {
    Contract {
        start: c.start.as_deref().map_or(i64::MIN, |m| clock.tick_of(m)),
        end: c.end.as_deref().map(|m| clock.tick_of(m)),
        credits: c.credits_musd,
        revenue_share: c.revenue_share,
        revenue_share_cap: c.revenue_share_cap_musd,
        min_compute_share: c.min_compute_share,
        exclusivity_end: c.exclusivity_end.as_deref().map(|m| clock.tick_of(m)),
        commitment: c.commitment_musd,
        licence: c.licence,
        licence_exclusive: c.licence_exclusive,
        ..Contract::empty(id, lab, provider, 0)
    }
}
