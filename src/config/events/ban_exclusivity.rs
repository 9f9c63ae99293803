//! `ban_exclusivity`: exclusivity floors and exclusive licences no longer bind.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind};
use crate::config::ConfigError;

/// Ban exclusivity: compute floors and exclusive licences no longer bind. It has no fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanExclusivity {}

impl Kind for BanExclusivity {
    fn validate(&self, _cx: &Check<'_>) -> Result<(), ConfigError> {
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        world.regulation().exclusivity_banned = true;
        Ok("exclusivity floors and exclusive licences no longer bind".into())
    }
}
