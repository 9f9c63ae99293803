//! Building a run's world from a config and stepping it: [`Simulation`].

use bevy_ecs::prelude::*;

use crate::config::{Config, ContractConfig, Month};
use crate::sim::agents::enterprise::spawn_enterprises;
use crate::sim::agents::lab::spawn_labs;
use crate::sim::agents::provider::spawn_providers;
use crate::sim::events::{EventLog, EventQueue};
use crate::sim::resources::{
    Clock, Contract, Contracts, Demand, Fault, Holdings, Layout, MarketView, Params, Policy, Settlement, TickReport,
    WithinRun,
};
use crate::sim::schedule::{startup_schedule, tick_schedule};

/// One run: its world and its tick schedule.
pub struct Simulation {
    world: World,
    schedule: Schedule,
    next_tick: u32,
    ticks: u32,
}

impl Simulation {
    /// Builds the world of a validated config (population drawn, first choices made); the
    /// enterprise phase runs on the calling thread.
    pub fn new(config: &Config) -> Simulation {
        Simulation::with_threads(config, 1)
    }

    /// As [`Simulation::new`], with the enterprise phase spread over `threads` threads (results
    /// are the same for any number).
    pub fn with_threads(config: &Config, threads: usize) -> Simulation {
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
        let (n_p, n_slots) = (layout.n_providers(), layout.slots.n_slots());

        let contracts = config
            .contracts
            .iter()
            .map(|(id, c)| {
                let lab = config.labs.get_index_of(&c.lab).expect("validated");
                let provider = config.providers.get_index_of(&c.provider).expect("validated");
                contract_from_config(id, c, lab, provider, &clock)
            })
            .collect();

        spawn_providers(&mut world, config, start);
        spawn_labs(&mut world, config, start);

        // Resources are entities with sparse-set storage indexed by entity index: a resource
        // spawned after N enterprises costs 4 bytes per enterprise. So every resource (and
        // whatever the schedules register) is created first, then the enterprises are spawned.
        world.insert_resource(Params(config.clone()));
        world.insert_resource(clock);
        world.insert_resource(layout);
        world.insert_resource(Policy::default());
        world.insert_resource(Contracts(contracts));
        world.insert_resource(Demand::default());
        let pool = (threads > 1).then(|| {
            std::sync::Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("a thread pool for the enterprise phase"),
            )
        });
        world.insert_resource(WithinRun { pool });
        world.insert_resource(EventQueue::from_config(config, start));
        world.insert_resource(EventLog::default());
        world.insert_resource(Fault::default());
        world.insert_resource(TickReport::default());
        world.insert_resource(Settlement::default());
        world.insert_resource(MarketView::default());
        world.insert_resource(Holdings::new(n_p, n_slots));
        let mut startup = startup_schedule();
        startup.initialize(&mut world).expect("the startup schedule is valid");
        let mut schedule = tick_schedule();
        schedule.initialize(&mut world).expect("the tick schedule is valid");

        let holdings = spawn_enterprises(&mut world, config);
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

    /// The world, taken out (for tests that run single systems on it).
    pub fn into_world(self) -> World {
        self.world
    }

    /// The world, mutably (for tests that set up a situation by hand).
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
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
        rofr: c.rofr,
        profit_share: c.profit_share,
        profit_share_cap: c.profit_share_cap_musd,
        exclusivity_end: c.exclusivity_end.as_deref().map(|m| clock.tick_of(m)),
        commitment: c.commitment_musd,
        licence: c.licence,
        licence_exclusive: c.licence_exclusive,
        ..Contract::empty(id, lab, provider, 0)
    }
}
