//! The order of a tick: six chained phases, each a system set.
//!
//! 1. `Events` — dated or triggered changes, then exogenous growth;
//! 2. `Labs` — quality from last month's training, compute demand, hosting allocation;
//! 3. `Providers` — capacity, prices, offerings and the choice tables;
//! 4. `Enterprises` — cloud-home migration and AI-option review;
//! 5. `Settle` — rationing, spend, revenue and contract payments;
//! 6. `Measure` — shares, concentration and the tick report.
//!
//! Ambiguity detection is an error, so two conflicting systems can never run unordered.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, ScheduleLabel, SingleThreadedExecutor};

use crate::sim::agents::enterprise::choose_initial_portfolios;
use crate::sim::events::apply_due_events;
use crate::sim::systems::{demand, enterprises, labs, measure, providers, settlement};

/// The phases of a tick.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum TickSystems {
    /// Phase 1: events and policy.
    Events,
    /// Phase 2: labs.
    Labs,
    /// Phase 3: providers.
    Providers,
    /// Phase 4: enterprises.
    Enterprises,
    /// Phase 5: settlement.
    Settle,
    /// Phase 6: measurement.
    Measure,
}

/// Label of the per-tick schedule.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tick;

/// Label of the initialisation schedule.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Startup;

fn new_schedule(label: impl ScheduleLabel) -> Schedule {
    let mut schedule = Schedule::new(label);
    // One world per run and parallelism across runs: never start bevy's task pool.
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.set_build_settings(ScheduleBuildSettings {
        ambiguity_detection: LogLevel::Error,
        ..Default::default()
    });
    schedule
}

/// The per-tick schedule.
pub fn tick_schedule() -> Schedule {
    let mut schedule = new_schedule(Tick);
    schedule.configure_sets(
        (
            TickSystems::Events,
            TickSystems::Labs,
            TickSystems::Providers,
            TickSystems::Enterprises,
            TickSystems::Settle,
            TickSystems::Measure,
        )
            .chain(),
    );
    schedule.add_systems((
        (apply_due_events, demand::advance_demand)
            .chain()
            .in_set(TickSystems::Events),
        (labs::update_lab_quality, labs::plan_lab_compute)
            .chain()
            .in_set(TickSystems::Labs),
        (providers::run_providers, providers::publish_offerings)
            .chain()
            .in_set(TickSystems::Providers),
        enterprises::review_sourcing.in_set(TickSystems::Enterprises),
        settlement::settle_market.in_set(TickSystems::Settle),
        measure::measure_markets.in_set(TickSystems::Measure),
    ));
    schedule
}

/// Startup: the outside options' utilities are calibrated on the offer, and with strategic fees
/// (`pricing.fee_rule = "best_response"`) the first month's fee equilibrium depends on the AI
/// outside utility in turn. So calibrate and republish until the utilities move by less than 1e-9
/// (at most 100 rounds; with configured fees the second round changes nothing). The AI utility
/// converges geometrically (by a factor of about ten a round), so every third round jumps to
/// Aitken's extrapolation of the last three values, `x₂ − (x₂ − x₁)²/(x₂ − 2x₁ + x₀)`.
fn outside_options_and_fees(world: &mut World) {
    use crate::sim::resources::Demand;
    use bevy_ecs::system::RunSystemOnce;
    let utilities = |w: &World| {
        let d = w.resource::<Demand>();
        (d.ai_outside_v0, d.cloud_outside_v0)
    };
    let segments = {
        let mut enterprises = world.query::<&crate::sim::agents::Enterprise>();
        demand::outside_segments(enterprises.iter(world))
    };
    let mut previous: Option<(f64, f64)> = None;
    let mut recent: Vec<f64> = Vec::with_capacity(3);
    for _ in 0..100 {
        world
            .run_system_once_with(demand::calibrate_outside_options, segments.clone())
            .expect("the calibration system runs");
        let now = utilities(world);
        let settled = previous.is_some_and(|p| (now.0 - p.0).abs() < 1e-9 && (now.1 - p.1).abs() < 1e-9);
        previous = Some(now);
        recent.push(now.0);
        if !settled && recent.len() == 3 {
            let (x0, x1, x2) = (recent[0], recent[1], recent[2]);
            let curvature = x2 - 2.0 * x1 + x0;
            let jump = x2 - (x2 - x1) * (x2 - x1) / curvature;
            if curvature != 0.0 && jump.is_finite() {
                world.resource_mut::<Demand>().ai_outside_v0 = jump;
                previous = Some((jump, now.1));
            }
            recent.clear();
        }
        world
            .run_system_once(providers::publish_offerings)
            .expect("the offering system runs");
        if settled {
            break;
        }
    }
}

/// Initialisation: publish the initial market, let labs place compute, publish again with
/// their hosting prices, set the outside options' utilities from their shares and publish with
/// them, give enterprises their initial AI projects, value a workload unit from the configured
/// demand levels, and settle one warm-up month so that "last month" quantities exist at tick 0
/// (its flows are not reported).
pub fn startup_schedule() -> Schedule {
    let mut schedule = new_schedule(Startup);
    schedule.add_systems(
        (
            providers::publish_offerings,
            labs::plan_lab_compute,
            providers::publish_offerings,
            outside_options_and_fees,
            choose_initial_portfolios,
            demand::calibrate_units,
            settlement::settle_market,
        )
            .chain(),
    );
    schedule
}
