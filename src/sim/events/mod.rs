//! Events in the running world: the queue that decides when each configured event fires
//! (`queue`), the phase-1 system that fires them, and the adapter through which their effects
//! (`crate::config::events`) change the ECS world (`world`).

mod queue;
mod world;

pub use queue::{EventLog, EventQueue, FiredEvent, apply_due_events};
pub use world::EcsEventWorld;
