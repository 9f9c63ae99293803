//! The three agent kinds, one module each: their components, how they are spawned from a
//! config, and how other code finds one by index.
//!
//! Providers and labs are a handful of entities with one state component each; enterprises are
//! many, with two small components read as slices in the hot path.

pub mod enterprise;
pub mod lab;
pub mod provider;

pub use enterprise::Enterprise;
pub use lab::{LabIdx, LabState};
pub use provider::{ProviderIdx, ProviderState};

use crate::config::Month;

/// Whether an agent with this `entry` month operates at `start` (absent = from the start).
pub(crate) fn operates_at(entry: &Option<String>, start: Month) -> bool {
    entry
        .as_deref()
        .is_none_or(|m| Month::parse(m).is_ok_and(|m| m <= start))
}
