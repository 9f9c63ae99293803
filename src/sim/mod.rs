//! The ECS world of one run: agents by kind, resources, systems in six ordered phases, and the
//! driver that steps it and hands each tick's report to an observer.

pub mod agents;
pub mod events;
pub mod resources;
pub mod rng;
pub mod run;
pub mod schedule;
pub mod systems;
pub mod world;

pub use run::{MetricsRecorder, Observer, RunError, RunInfo, simulate, simulate_with_threads};
pub use world::Simulation;
